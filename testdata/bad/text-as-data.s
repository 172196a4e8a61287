// want: 5:2: t is a TEXT symbol: its address and memory are not data here
TEXT t(SB),7,$0
	RET
TEXT u(SB),7,$0
	MOVQ	t(SB), AX
	RET
