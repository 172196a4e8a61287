// want: 3:7: missing operand
TEXT t(SB),7,$0
	MOVQ	, AX
