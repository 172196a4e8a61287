# setsid(): leave the run's process group, to outlive it
# expect: syscall
# message: denies: setsid (112)
.intel_syntax noprefix
.text
stub:
  mov eax, 112
  syscall
  ret
