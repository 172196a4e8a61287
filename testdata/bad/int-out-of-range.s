// want: 3:6: INT takes $0 to $255
TEXT t(SB),7,$0
	INT	$300
