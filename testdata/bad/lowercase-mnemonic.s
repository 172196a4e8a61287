// want: 3:2: unknown instruction 'movq' (Plan 9 mnemonics are upper case, with a size suffix: MOVQ)
TEXT t(SB),7,$0
	movq	AX, BX
