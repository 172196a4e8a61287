# r15 clobbered and not restored
# expect: nonvolatile
# message: R15 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor r15, r15
  ret
