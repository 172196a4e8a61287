# a call through a null pointer, with a correct frame
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  sub rsp, 40
  xor eax, eax
  call rax
  add rsp, 40
  ret
