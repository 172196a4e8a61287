// want: 4:14: width must be 1, 2, 4 or 8
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/3, $1
GLOBL	x(SB), $8
