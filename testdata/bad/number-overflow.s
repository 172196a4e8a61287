// want: 3:8: number does not fit in 64 bits
TEXT t(SB),7,$0
	MOVQ	$99999999999999999999, AX
