# openat(AT_FDCWD, "hostile-created", O_WRONLY|O_CREAT)
# expect: syscall
# message: denies: openat (257)
# data: path "hostile-created\0"
.intel_syntax noprefix
.text
stub:
  mov edi, -100
  lea rsi, [rip + path]
  mov edx, 0x41
  mov r10d, 0x1a4
  mov eax, 257
  syscall
  ret
