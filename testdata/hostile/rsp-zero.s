# RSP set to zero, then a push
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  xor esp, esp
  push rax
  ret
