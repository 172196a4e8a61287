# open("canary", O_WRONLY|O_TRUNC): empty a file that exists
# expect: syscall
# message: denies: open (2)
# data: path "canary\0"
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + path]
  mov esi, 0x201
  xor edx, edx
  mov eax, 2
  syscall
  ret
