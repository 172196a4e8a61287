// want: 2:2: MOVQ outside a TEXT symbol
	MOVQ	AX, BX
