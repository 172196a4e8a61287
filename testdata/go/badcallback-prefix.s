// runtime·badcallback before the 2012 fix (DESIGN.md): a declared $48 frame; the linker adjusts SP.
// Its 2012 defect stays: MOVL $len(SB), R8 passes the ADDRESS of the length as the count.

// What the 2012 runtime declared on its C side (thread_windows.c, runtime.c), declared here so that the
// file assembles on its own: the two kernel32 imports, the length and the message.
#pragma dynimport runtime·GetStdHandle GetStdHandle "kernel32.dll"
#pragma dynimport runtime·WriteFile WriteFile "kernel32.dll"

TEXT runtime·badcallback(SB),7,$48
	MOVQ	$-12, CX // stderr
	MOVQ	CX, 0(SP)
	MOVQ	runtime·GetStdHandle(SB), AX
	CALL	AX
	MOVQ	AX, CX	// handle
	MOVQ	CX, 0(SP)
	MOVQ	$runtime·badcallbackmsg(SB), DX // pointer
	MOVQ	DX, 8(SP)
	MOVL	$runtime·badcallbacklen(SB), R8 // count
	MOVQ	R8, 16(SP)
	LEAQ	40(SP), R9  // written count
	MOVQ	$0, 0(R9)
	MOVQ	R9, 24(SP)
	MOVQ	$0, 32(SP)	// overlapped
	MOVQ	runtime·WriteFile(SB), AX
	CALL	AX
	RET

DATA	runtime·badcallbacklen+0(SB)/4, $51
GLOBL	runtime·badcallbacklen(SB), $4
DATA	runtime·badcallbackmsg+0(SB)/8, $"runtime:"
DATA	runtime·badcallbackmsg+8(SB)/8, $" cgo cal"
DATA	runtime·badcallbackmsg+16(SB)/8, $"lback on"
DATA	runtime·badcallbackmsg+24(SB)/8, $" thread "
DATA	runtime·badcallbackmsg+32(SB)/8, $"not crea"
DATA	runtime·badcallbackmsg+40(SB)/8, $"ted by G"
DATA	runtime·badcallbackmsg+48(SB)/3, $"o.\n"
GLOBL	runtime·badcallbackmsg(SB), $52
