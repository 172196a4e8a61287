// want: 3:8: malformed number '0x'
TEXT t(SB),7,$0
	MOVQ	$0x, AX
