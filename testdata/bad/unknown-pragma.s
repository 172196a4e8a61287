// want: 2:1: unknown #pragma textflag (expected dynimport)
#pragma textflag 7
TEXT t(SB),7,$0
	RET
