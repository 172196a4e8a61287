// want: no TEXT symbol
GLOBL	x(SB), $8
