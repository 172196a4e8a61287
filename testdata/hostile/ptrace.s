# ptrace(PTRACE_ATTACH, getppid()): take over the host (the allow-list stops it at getppid; asan's denylist at ptrace)
# expect: syscall
# message: a system call the sandbox denies: getppid
# message-asan: a system call the sandbox denies: ptrace
.intel_syntax noprefix
.text
stub:
  mov eax, 110
  syscall
  mov esi, eax
  mov edi, 16
  xor edx, edx
  xor r10d, r10d
  mov eax, 101
  syscall
  ret
