// want: 4:14: expected the size as $N, from 1 to 1048576
TEXT t(SB),7,$0
	RET
GLOBL	x(SB), $0
