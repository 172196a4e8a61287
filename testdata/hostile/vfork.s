# vfork(): a second process sharing memory
# expect: syscall
# message: denies: vfork (58)
.intel_syntax noprefix
.text
stub:
  mov eax, 58
  syscall
  ret
