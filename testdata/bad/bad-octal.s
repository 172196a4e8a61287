// want: 3:8: malformed number '09'
TEXT t(SB),7,$0
	MOVQ	$09, AX
