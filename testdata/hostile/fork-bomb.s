# a fork bomb: fork in a loop, the children forking too
# expect: syscall
# message: denies: fork (57)
.intel_syntax noprefix
.text
stub:
again:
  mov eax, 57
  syscall
  jmp again
