// want: 4:20: unterminated string
TEXT t(SB),7,$0
	RET
DATA	msg+0(SB)/8, $"abc
GLOBL	msg(SB), $8
