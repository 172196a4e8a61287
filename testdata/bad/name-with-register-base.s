// want: 3:7: undefined: foo (a name before (REG) needs (SB), (FP) or (SP)) in 'foo(CX)'
TEXT t(SB),7,$0
	MOVQ	foo(CX), AX
