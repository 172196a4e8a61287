// want: 3:7: AH, BH, CH and DH are byte registers: use a B instruction in 'AH'
TEXT t(SB),7,$0
	MOVQ	AH, BX
