// want: 3:6: 5(PC) leads outside TEXT t
TEXT t(SB),7,$0
	JMP	5(PC)
	RET
