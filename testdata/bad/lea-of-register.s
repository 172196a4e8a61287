// want: 3:7: LEAQ needs a memory operand to take the address of, got 'AX'
TEXT t(SB),7,$0
	LEAQ	AX, BX
