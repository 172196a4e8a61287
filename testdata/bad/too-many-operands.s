// want: 3:2: RET takes 0 operands, got 1: 'RET AX'
TEXT t(SB),7,$0
	RET	AX
