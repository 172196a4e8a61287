// want: 3:2: MOVQ takes 2 operands, got 1: 'MOVQ AX'
TEXT t(SB),7,$0
	MOVQ	AX
