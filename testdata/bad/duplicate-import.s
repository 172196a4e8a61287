// want: 3:19: w is already imported
#pragma dynimport w WriteFile "kernel32.dll"
#pragma dynimport w WriteFile "kernel32.dll"
TEXT t(SB),7,$0
	RET
