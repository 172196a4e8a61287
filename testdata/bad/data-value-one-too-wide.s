// want: 4:17: -129 does not fit in 1 byte(s)
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/1, $-129
GLOBL	x(SB), $8
