# kill(getppid(), SIGKILL): the host (the allow-list stops it at getppid; asan's denylist at kill)
# expect: syscall
# message: a system call the sandbox denies: getppid
# message-asan: a system call the sandbox denies: kill
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
