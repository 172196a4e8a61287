// want: 4:1: a second #else for the same #ifdef
#ifdef X
#else
#else
#endif
TEXT t(SB),7,$0
	RET
