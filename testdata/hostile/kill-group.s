# kill(0, SIGKILL): the run's own process group
# expect: syscall
# message: denies: kill (62)
.intel_syntax noprefix
.text
stub:
  xor edi, edi
  mov esi, 9
  mov eax, 62
  syscall
  ret
