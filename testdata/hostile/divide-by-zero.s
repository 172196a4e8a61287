# an integer division by zero
# expect: fault
# message: SIGFPE
# host: native wine
.intel_syntax noprefix
.text
stub:
  xor ecx, ecx
  mov eax, 1
  cdq
  idiv ecx
  ret
