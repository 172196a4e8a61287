# r13 clobbered and not restored
# expect: nonvolatile
# message: R13 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor r13, r13
  ret
