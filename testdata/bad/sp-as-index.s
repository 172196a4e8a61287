// want: 3:13: expected an index register (not SP) in (REG*SCALE) in '0(CX)(SP*2)'
TEXT t(SB),7,$0
	MOVQ	0(CX)(SP*2), AX
