# fork(): a second process
# expect: syscall
# message: a system call the sandbox denies: fork (57)
.intel_syntax noprefix
.text
stub:
  mov eax, 57
  syscall
  ret
