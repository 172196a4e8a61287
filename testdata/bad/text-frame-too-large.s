// want: 2:15: frame size too large
TEXT t(SB),7,$0x80000000
	RET
