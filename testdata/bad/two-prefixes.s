// want: 4:2: two prefixes in a row
TEXT t(SB),7,$0
	REP
	LOCK
	MOVSQ
	RET
