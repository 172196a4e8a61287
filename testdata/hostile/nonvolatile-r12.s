# r12 clobbered and not restored
# expect: nonvolatile
# message: R12 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor r12, r12
  ret
