// want: 4:17: string of 7 bytes in a 4-byte DATA
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/4, $"toolong"
GLOBL	x(SB), $8
