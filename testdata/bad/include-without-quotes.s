// want: 2:1: #include expects "FILE"
#include nonexistent.h
TEXT t(SB),7,$0
	RET
