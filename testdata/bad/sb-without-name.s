// want: 3:7: (SB) needs a symbol name before it, as in runtime·x(SB) in '(SB)'
TEXT t(SB),7,$0
	MOVQ	(SB), AX
