# r14 clobbered and not restored
# expect: nonvolatile
# message: R14 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor r14, r14
  ret
