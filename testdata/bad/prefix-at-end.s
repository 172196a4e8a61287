// want: 4:2: a prefix with no instruction after it
TEXT t(SB),7,$0
	RET
	REP
