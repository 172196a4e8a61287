// want: 3:7: SB is a pseudo-register: write sym(SB), name+8(FP) or 2(PC) in 'SB'
TEXT t(SB),7,$0
	MOVQ	SB, AX
