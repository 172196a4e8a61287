# rbp clobbered and not restored
# expect: nonvolatile
# message: RBP is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor rbp, rbp
  ret
