// want: 3:2: unterminated /* comment
TEXT t(SB),7,$0
	/* never closed
	RET
