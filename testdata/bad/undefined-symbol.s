// want: 3:2: undefined symbol foo (declare it with GLOBL, or import it with #pragma dynimport)
TEXT t(SB),7,$0
	MOVQ	foo(SB), AX
	RET
