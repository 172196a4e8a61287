# a read through a null pointer
# expect: fault
# message: SIGSEGV
# host: native wine
.intel_syntax noprefix
.text
stub:
  xor eax, eax
  mov rax, [rax]
  ret
