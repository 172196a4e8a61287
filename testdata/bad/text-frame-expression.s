// want: 2:14: expected $frame or $frame-argsize, got '$(8*2)'
TEXT t(SB),7,$(8*2)
	RET
