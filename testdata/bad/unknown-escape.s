// want: 4:20: unknown escape \q
TEXT t(SB),7,$0
	RET
DATA	msg+0(SB)/2, $"\q"
GLOBL	msg(SB), $8
