# symlink("canary", "hostile-created")
# expect: syscall
# message: denies: symlink (88)
# data: path "canary\0"
# data: target "hostile-created\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  lea rsi, [rip + target]
  mov eax, 88
  syscall
  ret
