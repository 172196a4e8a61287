# a breakpoint left in the code
# expect: fault
# message: SIGTRAP (a breakpoint) at +0x1
# host: native wine
.intel_syntax noprefix
.text
stub:
  nop
  int3
  ret
