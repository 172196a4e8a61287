// The forms an object of a whole Plan 9 file must relocate (src/out/coff_test.cpp compares w64stub obj with GNU
// as on testdata/ref/plan9obj/forms.MODEL.s): a framed global function, a static (<>) one, a tail jump; calls
// resolved in place, to an external and through an import slot; global and static data with addends, and
// fields followed by an immediate. No abs64 form: that model reaches memory only through a register.
#pragma dynimport forms·Sleep Sleep "kernel32.dll"

DATA forms·table+0(SB)/8, $1
DATA forms·table+8(SB)/8, $2
GLOBL forms·table(SB), $16
GLOBL forms·counter<>(SB), $16

TEXT forms·outer(SB),7,$40
	MOVL	$5, forms·counter<>+4(SB)
	MOVB	$1, forms·counter<>+8(SB)
	LEAQ	forms·table+8(SB), AX
	MOVQ	$forms·inner<>(SB), BX
	CALL	forms·inner<>(SB)
	CALL	forms·helper(SB)
	MOVQ	forms·Sleep(SB), AX
	CALL	AX
	JMP	forms·tail(SB)

TEXT forms·inner<>(SB),7,$0
	INCQ	forms·table(SB)
	RET

TEXT forms·tail(SB),7,$0
	RET
