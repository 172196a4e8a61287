// want: 3:13: unexpected '(' after the operand in '(AX*8)(BX*2)'
TEXT t(SB),7,$0
	MOVQ	(AX*8)(BX*2), CX
