// want: 6:1: GLOBL x is already declared at data-duplicate-globl.s:5:1
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/4, $1
GLOBL	x(SB), $8
GLOBL	x(SB), $8
