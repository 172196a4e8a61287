// want: 4:2: macro two takes 2 argument(s), got 1
#define two(a, b) MOVQ a, b
TEXT t(SB),7,$0
	two(AX)
	RET
