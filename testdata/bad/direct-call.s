// want: 3:7: CALL runtime·f(SB): direct calls and jumps to symbols are not supported (each TEXT symbol is its own Image); load the address and call through a register
TEXT t(SB),7,$0
	CALL	runtime·f(SB)
	RET
