// want: 4:2: unterminated call of macro one
#define one(a) PUSHQ a
TEXT t(SB),7,$0
	one(AX
	RET
