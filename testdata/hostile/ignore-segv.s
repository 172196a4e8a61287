# rt_sigaction(SIGSEGV, SIG_IGN), then a fault
# expect: syscall
# message: denies: rt_sigaction (13)
# data: ignore "\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
# expect-asan: died
.intel_syntax noprefix
.text
stub:
  mov edi, 11
  lea rsi, [rip + ignore]
  xor edx, edx
  mov r10d, 8
  mov eax, 13
  syscall
  xor eax, eax
  mov rax, [rax]
  ret
