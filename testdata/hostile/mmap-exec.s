# mmap(PROT_READ|PROT_WRITE|PROT_EXEC): fresh memory to write code into
# expect: syscall
# message: denies: mmap (9)
.intel_syntax noprefix
.text
stub:
  xor edi, edi
  mov esi, 4096
  mov edx, 7
  mov r10d, 0x22
  mov r8d, -1
  xor r9d, r9d
  mov eax, 9
  syscall
  ret
