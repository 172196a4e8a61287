// want: 2:1: #include nests deeper than 32 (a cycle?)
#include "recursive-include.s"
TEXT t(SB),7,$0
	RET
