# mprotect(its own page, RWX): make its code writable
# expect: syscall
# message: denies: mprotect (10)
.intel_syntax noprefix
.text
stub:
  lea rdi, [rip + stub]
  and rdi, -4096
  mov esi, 4096
  mov edx, 7
  mov eax, 10
  syscall
  ret
