// want: 3:7: a shift count is $constant or CX, got 'BX'
TEXT t(SB),7,$0
	SHLQ	BX, AX
