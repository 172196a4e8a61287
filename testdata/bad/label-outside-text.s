// want: 2:1: label loop outside a TEXT symbol
loop:
TEXT t(SB),7,$0
	RET
