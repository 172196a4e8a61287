// runtime·badsignal (DESIGN.md): a declared $48 frame, the body of badcallback with its own message.
// Its 2012 defect stays: MOVL $len(SB), R8 passes the ADDRESS of the length as the count.

// What the 2012 runtime declared on its C side (thread_windows.c, runtime.c), declared here so that the
// file assembles on its own: the two kernel32 imports, the length and the message.
#pragma dynimport runtime·GetStdHandle GetStdHandle "kernel32.dll"
#pragma dynimport runtime·WriteFile WriteFile "kernel32.dll"

TEXT runtime·badsignal(SB),7,$48
	MOVQ	$-12, CX // stderr
	MOVQ	CX, 0(SP)
	MOVQ	runtime·GetStdHandle(SB), AX
	CALL	AX
	MOVQ	AX, CX	// handle
	MOVQ	CX, 0(SP)
	MOVQ	$runtime·badsignalmsg(SB), DX // pointer
	MOVQ	DX, 8(SP)
	MOVL	$runtime·badsignallen(SB), R8 // count
	MOVQ	R8, 16(SP)
	LEAQ	40(SP), R9  // written count
	MOVQ	$0, 0(R9)
	MOVQ	R9, 24(SP)
	MOVQ	$0, 32(SP)	// overlapped
	MOVQ	runtime·WriteFile(SB), AX
	CALL	AX
	RET

DATA	runtime·badsignallen+0(SB)/4, $54
GLOBL	runtime·badsignallen(SB), $4
DATA	runtime·badsignalmsg+0(SB)/8, $"runtime:"
DATA	runtime·badsignalmsg+8(SB)/8, $" signal "
DATA	runtime·badsignalmsg+16(SB)/8, $"received"
DATA	runtime·badsignalmsg+24(SB)/8, $" on thre"
DATA	runtime·badsignalmsg+32(SB)/8, $"ad not c"
DATA	runtime·badsignalmsg+40(SB)/8, $"reated b"
DATA	runtime·badsignalmsg+48(SB)/6, $"y Go.\n"
GLOBL	runtime·badsignalmsg(SB), $55
