# kill(getppid(), SIGKILL): the host
# expect: syscall
# message: a system call the sandbox denies
.intel_syntax noprefix
.text
stub:
  mov eax, 110
  syscall
  mov edi, eax
  mov esi, 9
  mov eax, 62
  syscall
  ret
