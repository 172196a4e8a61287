# a jump to an address nothing is mapped at
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  movabs rax, 0x414141414141
  jmp rax
