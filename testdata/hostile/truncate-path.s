# truncate("canary", 0)
# expect: syscall
# message: denies: truncate (76)
# data: path "canary\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  xor esi, esi
  mov eax, 76
  syscall
  ret
