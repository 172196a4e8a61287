// want: 3:10: shift count 64 is outside 0..63
TEXT t(SB),7,$0
	MOVQ	$(1<<64), AX
