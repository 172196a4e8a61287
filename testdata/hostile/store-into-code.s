# a store into its own code, which is never writable
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  lea rax, [rip + stub]
  mov byte ptr [rax], 0xc3
  ret
