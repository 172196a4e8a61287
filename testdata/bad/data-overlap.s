// want: 5:1: DATA x+4 overlaps an earlier DATA
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/8, $1
DATA	x+4(SB)/4, $2
GLOBL	x(SB), $8
