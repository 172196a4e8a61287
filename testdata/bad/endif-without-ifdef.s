// want: 4:1: #endif without #ifdef or #ifndef
TEXT t(SB),7,$0
	RET
#endif
