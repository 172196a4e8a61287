# exit(0): the only thread ends
# expect: died
# message: 
.intel_syntax noprefix
.text
stub:
  xor edi, edi
  mov eax, 60
  syscall
  ret
