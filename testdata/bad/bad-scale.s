// want: 3:16: scale 3 is not 1, 2, 4 or 8 in '0(CX)(AX*3)'
TEXT t(SB),7,$0
	MOVQ	0(CX)(AX*3), AX
