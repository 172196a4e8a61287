// want: 4:1: TEXT t is already defined at duplicate-text.s:2:1
TEXT t(SB),7,$0
	RET
TEXT t(SB),7,$0
	RET
