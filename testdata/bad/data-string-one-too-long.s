// want: 4:17: string of 5 bytes in a 4-byte DATA
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/4, $"abcde"
GLOBL	x(SB), $8
