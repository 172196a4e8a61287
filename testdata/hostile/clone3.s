# clone3(): the newest way to fork
# expect: syscall
# message: denies: clone3 (435)
.intel_syntax noprefix
.text
stub:
  xor edi, edi
  xor esi, esi
  mov eax, 435
  syscall
  ret
