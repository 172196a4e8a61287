// want: 3:6: JMP needs a label, N(PC), register or memory
TEXT t(SB),7,$0
	JMP	$4
