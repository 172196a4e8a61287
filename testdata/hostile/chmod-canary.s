# chmod("canary", 0777)
# expect: syscall
# message: denies: chmod (90)
# data: path "canary\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov esi, 0x1ff
  mov eax, 90
  syscall
  ret
