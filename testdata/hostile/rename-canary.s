# rename("canary", "hostile-created")
# expect: syscall
# message: denies: rename (82)
# data: path "canary\0"
# data: target "hostile-created\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  lea rsi, [rip + target]
  mov eax, 82
  syscall
  ret
