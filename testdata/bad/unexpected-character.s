// want: 3:7: unexpected character '@'
TEXT t(SB),7,$0
	MOVQ	@AX, BX
