# execve("/bin/sh"): replace the harness
# expect: syscall
# message: denies: execve (59)
# data: shell "/bin/sh\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + shell]
  xor esi, esi
  xor edx, edx
  mov eax, 59
  syscall
  ret
