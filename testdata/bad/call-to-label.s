// want: 4:7: CALL to a label inside the same TEXT symbol is not supported
TEXT t(SB),7,$0
a:
	CALL	a
	RET
