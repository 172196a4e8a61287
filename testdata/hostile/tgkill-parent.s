# tgkill(getppid(), getppid(), SIGKILL): the host by thread id
# expect: syscall
# message: a system call the sandbox denies
.intel_syntax noprefix
.text
stub:
  mov eax, 110
  syscall
  mov edi, eax
  mov esi, eax
  mov edx, 9
  mov eax, 234
  syscall
  ret
