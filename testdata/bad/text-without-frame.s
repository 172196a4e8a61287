// want: 2:12: expected $frame or $frame-argsize, got '7'
TEXT t(SB),7
	RET
