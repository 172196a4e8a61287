// A Go 2012-style windows/amd64 runtime file, written for w64stub's whole-file test: thirteen TEXT symbols
// that use labels, N(PC) branches, #define macros (object-like, function-like, multi-line), an #include,
// #ifdef, SIB addressing, GS-relative TLS and FP arguments. Its independent Intel translation, one file per
// symbol, is testdata/ref/plan9/sys_windows_amd64.*.s; tools/refgen assembles it with GNU as and llvm-mc.

#include "zasm_windows_amd64.h"

// maxargs should be even: the stack must stay 16-byte aligned at the call.
#define maxargs 16

// Save and restore the registers Windows callbacks must preserve.
#define SAVE_NONVOLATILE \
	PUSHQ	BX; \
	PUSHQ	SI; \
	PUSHQ	DI
#define RESTORE_NONVOLATILE \
	POPQ	DI; \
	POPQ	SI; \
	POPQ	BX

#define TEB_LASTERROR(r) 0x68(r)

#pragma dynimport runtime·NtWaitForSingleObject NtWaitForSingleObject "ntdll.dll"

// void runtime·asmstdcall(void *c);
TEXT runtime·asmstdcall(SB),7,$0
	PUSHQ	CX			// save for later
	MOVQ	wincall_fn(CX), AX
	MOVQ	wincall_args(CX), SI
	MOVQ	wincall_n(CX), CX

	// SetLastError(0).
	MOVQ	0x30(GS), DI
	MOVL	$0, TEB_LASTERROR(DI)

	SUBQ	$(maxargs*8), SP	// room for args

	// Fast version, do not store args on the stack.
	CMPL	CX, $4
	JLE	loadregs

	// Check we have enough room for args.
	CMPL	CX, $maxargs
	JLE	2(PC)
	INT	$3			// not enough room -> crash

	// Copy args to the stack.
	MOVQ	SP, DI
	CLD
	REP; MOVSQ
	MOVQ	SP, SI

loadregs:
	MOVQ	0(SI), CX
	MOVQ	8(SI), DX
	MOVQ	16(SI), R8
	MOVQ	24(SI), R9
	CALL	AX
	ADDQ	$(maxargs*8), SP

	POPQ	CX
	MOVQ	AX, wincall_r1(CX)
	MOVQ	0x30(GS), DI
	MOVL	TEB_LASTERROR(DI), AX
	MOVQ	AX, wincall_err(CX)
	RET

// faster get/set last error
TEXT runtime·getlasterror(SB),7,$0
	MOVQ	0x30(GS), AX
	MOVL	TEB_LASTERROR(AX), AX
	RET

TEXT runtime·setlasterror(SB),7,$0
	MOVL	err+0(FP), AX
	MOVQ	0x30(GS),	CX
	MOVL	AX, TEB_LASTERROR(CX)
	RET

// set tls base to DI
TEXT runtime·settls(SB),7,$0
	MOVQ	DI, 0x28(GS)
	RET

TEXT runtime·getg(SB),7,$0
	get_tls(CX)
	MOVQ	g(CX), AX
	RET

TEXT runtime·setstacklimits(SB),7,$0
	MOVQ	0x30(GS), CX
	MOVQ	$0, 0x10(CX)
	MOVQ	$0xffffffffffff, AX
	MOVQ	AX, 0x08(CX)
	RET

// void runtime·memclr(byte *addr, uintptr n);
TEXT runtime·memclr(SB),7,$0
	MOVQ	addr+0(FP), DI
	MOVQ	n+8(FP), CX
	MOVQ	CX, BX
	ANDQ	$7, BX
	SHRQ	$3, CX
	MOVQ	$0, AX
	CLD
	REP; STOSQ
	MOVQ	BX, CX
	REP; STOSB
	RET

GLOBL runtime·cbctxts(SB), $8

// The callback context for the index in AX (1-based).
TEXT runtime·cbctxt(SB),7,$0
	MOVQ	runtime·cbctxts(SB), CX
	MOVQ	-8(CX)(AX*8), AX
	RET

// Sleep duration is in 100ns units, in BX; AX holds the function to run it.
TEXT runtime·usleep1(SB),7,$0
	// Execute call on m->g0 stack, in case we are not actually
	// calling a system call wrapper, like when running under WINE.
	get_tls(R15)
	CMPQ	R15, $0
	JNE	3(PC)
	// Not a Go-managed thread. Do not switch stack.
	CALL	AX
	RET

	MOVQ	m(R15), R14
	MOVQ	m_g0(R14), R14
	CMPQ	g(R15), R14
	JNE	3(PC)
	// executing on m->g0 already
	CALL	AX
	RET

	// Switch to m->g0 stack and back.
	MOVQ	(g_sched+gobuf_sp)(R14), R14
	MOVQ	SP, -8(R14)
	LEAQ	-8(R14), SP
	CALL	AX
	MOVQ	0(SP), SP
	RET

// Runs on OS stack. duration (in 100ns units) is in BX.
TEXT runtime·usleep2(SB),7,$8
	// Want negative 100ns units.
	NEGQ	BX
	MOVQ	SP, R8 // ptime
	MOVQ	BX, (R8)
	MOVQ	$-1, CX // handle
	MOVQ	$0, DX // alertable
	MOVQ	runtime·NtWaitForSingleObject(SB), AX
	CALL	AX
	RET

TEXT runtime·externalthreadhandler(SB),7,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SAVE_NONVOLATILE
	PUSHQ	0x28(GS)
	MOVQ	SP, DX

	// setup dummy m, g
	SUBQ	$m_end, SP		// space for M
	LEAQ	m_tls(SP), CX
	MOVQ	CX, 0x28(GS)
	MOVQ	SP, m(CX)
	MOVQ	SP, BX
	SUBQ	$g_end, SP		// space for G
	MOVQ	SP, g(CX)
	MOVQ	SP, m_g0(BX)
	LEAQ	-8192(SP), CX
	MOVQ	CX, g_stackguard(SP)
	MOVQ	DX, g_stackbase(SP)

	PUSHQ	32(BP)			// arg for handler
	CALL	16(BP)
	POPQ	CX

	get_tls(CX)
	MOVQ	g(CX), CX
	MOVQ	g_stackbase(CX), SP
	POPQ	0x28(GS)
	RESTORE_NONVOLATILE
	POPQ	BP
	RET

TEXT runtime·callbackasm1(SB),7,$0
	// The first 4 args arrive in CX, DX, R8, R9; keep them in the shadow space above the return address.
	MOVQ	CX, (16+0)(SP)
	MOVQ	DX, (16+8)(SP)
	MOVQ	R8, (16+16)(SP)
	MOVQ	R9, (16+24)(SP)

	// remove return address from stack, we are not returning there
	MOVQ	0(SP), AX
	ADDQ	$8, SP

	// index = (return address - base) / 5
	MOVQ	$0, DX
	MOVQ	$5, CX	// each call instruction in the callback table is 5 bytes long
	DIVL	CX,
	IMULQ	$24, AX

	LEAQ	8(SP), CX
	PUSHQ	0(CX)(DX*1)
	ADDQ	$8, DX
	PUSHFQ
#ifdef CALLBACK_TRACE
	INT	$3
#else
	XORL	BX, BX
#endif
	POPFQ
	MOVL	-8(CX)(DX*1), AX
	POPQ	-8(CX)(DX*1)
	RET

TEXT runtime·sigtramp(SB),7,$0
	// CX: exception record
	// R8: context

	// unwinding?
	TESTL	$6, 4(CX)		// exception flags
	MOVL	$1, AX
	JNZ	sigdone

	SUBQ	$56, SP
	MOVQ	CX, 0(SP)
	MOVQ	R8, 8(SP)
	get_tls(CX)
	MOVQ	m(CX), AX
	CMPQ	AX, $0
	JEQ	nom
	MOVQ	g(CX), CX
	MOVQ	CX, 16(SP)
	MOVQ	BX, 24(SP)
	MOVQ	BP, 32(SP)
	MOVQ	SI, 40(SP)
	MOVQ	DI, 48(SP)
	MOVQ	24(SP), BX
	MOVQ	32(SP), BP
	MOVQ	40(SP), SI
	MOVQ	48(SP), DI
nom:
	ADDQ	$56, SP

sigdone:
	RET
