// want: 3:2: label nowhere is never defined in t
TEXT t(SB),7,$0
	JMP	nowhere
	RET
