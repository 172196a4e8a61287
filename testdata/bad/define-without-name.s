// want: 2:1: #define expects a name
#define
TEXT t(SB),7,$0
	RET
