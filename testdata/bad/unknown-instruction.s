// want: 3:2: unknown instruction 'MOVZ'
TEXT t(SB),7,$0
	MOVZ	AX, BX
