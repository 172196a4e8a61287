// want: 5:1: label a is already defined at duplicate-label.s:3:1
TEXT t(SB),7,$0
a:
	NOP
a:
	RET
