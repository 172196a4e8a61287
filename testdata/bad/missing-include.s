// want: 2:10: cannot find include file "nonexistent.h" (looked beside missing-include.s and in 0 -I directories)
#include "nonexistent.h"
TEXT t(SB),7,$0
	RET
