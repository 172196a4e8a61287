// want: 2:1: expected #pragma dynimport SYMBOL FUNCTION "DLL"
#pragma dynimport WriteFile "kernel32.dll"
TEXT t(SB),7,$0
	RET
