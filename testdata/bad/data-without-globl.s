// want: 4:1: DATA for x, which has no GLOBL
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/4, $1
