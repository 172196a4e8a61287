# rdi clobbered and not restored
# expect: nonvolatile
# message: RDI is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor rdi, rdi
  ret
