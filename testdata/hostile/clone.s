# clone(SIGCHLD): fork by another name
# expect: syscall
# message: denies: clone (56)
.intel_syntax noprefix
.text
stub:
  mov edi, 17
  xor esi, esi
  xor edx, edx
  xor r10d, r10d
  xor r8d, r8d
  mov eax, 56
  syscall
  ret
