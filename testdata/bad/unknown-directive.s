// want: 2:2: unknown directive #if
#if 1
TEXT t(SB),7,$0
	RET
