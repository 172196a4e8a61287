# write(3, ...): the harness's own pipe, the one descriptor the child keeps beyond 0-2
# expect: syscall
# message: a system call the sandbox denies
# expect-asan: nonvolatile, nonvolatile
.intel_syntax noprefix
.text
stub:
  mov edi, 3
  mov rsi, rsp
  mov edx, 8
  mov eax, 1
  syscall
  ret
