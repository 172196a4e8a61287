# open("/tmp/w64stub-hostile-created", O_WRONLY|O_CREAT): a file outside the working directory
# expect: syscall
# message: denies: open (2)
# data: path "/tmp/w64stub-hostile-created\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov esi, 0x41
  mov edx, 0x1a4
  mov eax, 2
  syscall
  ret
