// want: 3:9: undefined: FOO (not a macro or constant)
TEXT t(SB),7,$0
	MOVQ	$(FOO+1), AX
