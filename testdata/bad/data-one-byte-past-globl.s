// want: 4:1: DATA x+0 of 8 bytes lies outside its 7-byte GLOBL
TEXT t(SB),7,$0
	RET
DATA	x+0(SB)/8, $1
GLOBL	x(SB), $7
