# creat("hostile-created")
# expect: syscall
# message: denies: creat (85)
# data: path "hostile-created\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov esi, 0x1a4
  mov eax, 85
  syscall
  ret
