// want: 4:1: DATA x+4 of 8 bytes lies outside its 8-byte GLOBL
TEXT t(SB),7,$0
	RET
DATA	x+4(SB)/8, $1
GLOBL	x(SB), $8
