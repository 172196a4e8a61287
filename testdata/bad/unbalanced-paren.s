// want: 3:12: expected ) to close the expression
TEXT t(SB),7,$0
	MOVQ	$(1+2, AX
