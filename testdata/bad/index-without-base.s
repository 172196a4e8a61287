// want: 3:8: expected ) after the register in '(AX*8)'
TEXT t(SB),7,$0
	MOVQ	(AX*8), BX
