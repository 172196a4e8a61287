# tgkill(getppid(), getppid(), SIGKILL): the host by thread id (the allow-list stops it at getppid; asan's denylist at tgkill)
# expect: syscall
# message: a system call the sandbox denies: getppid
# message-asan: a system call the sandbox denies: tgkill
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
