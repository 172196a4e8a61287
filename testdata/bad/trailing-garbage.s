// want: 3:12: unexpected 'x' after the operand in '8(SP)x'
TEXT t(SB),7,$0
	MOVQ	8(SP)x, AX
