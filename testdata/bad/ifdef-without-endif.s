// want: 2:1: #ifdef/#ifndef without #endif
#ifdef X
TEXT t(SB),7,$0
	RET
