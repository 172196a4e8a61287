// want: 4:17: 300 does not fit in 1 byte(s)
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/1, $300
GLOBL	x(SB), $8
