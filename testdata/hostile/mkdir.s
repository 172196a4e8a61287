# mkdir("hostile-created")
# expect: syscall
# message: denies: mkdir (83)
# data: path "hostile-created\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov esi, 0x1ed
  mov eax, 83
  syscall
  ret
