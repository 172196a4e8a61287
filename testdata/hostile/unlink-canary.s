# unlink("canary")
# expect: syscall
# message: denies: unlink (87)
# data: path "canary\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov eax, 87
  syscall
  ret
