// want: 3:11: undefined: BXX (not a register; a label is only a jump target)
TEXT t(SB),7,$0
	MOVQ	AX, BXX
