// want: 6:1: DATA x+2 overlaps an earlier DATA
TEXT t(SB),7,$0
	RET
DATA	x+8(SB)/4, $1
DATA	x+4(SB)/4, $2
DATA	x+2(SB)/4, $3
GLOBL	x(SB), $16
