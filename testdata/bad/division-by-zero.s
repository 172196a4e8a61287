// want: 3:10: division by zero
TEXT t(SB),7,$0
	MOVQ	$(1/0), AX
