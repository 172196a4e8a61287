# rt_sigprocmask blocking every signal, then an endless loop
# expect: syscall
# message: denies: rt_sigprocmask (14)
# data: all "\377\377\377\377\377\377\377\377"
# expect-asan: timeout
.intel_syntax noprefix
.text
stub:
  xor edi, edi
  lea rsi, [rip + all]
  xor edx, edx
  mov r10d, 8
  mov eax, 14
  syscall
again:
  jmp again
