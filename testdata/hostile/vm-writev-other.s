# process_vm_writev(1, ...): write into another process's memory (pid 1: getppid itself is denied)
# expect: syscall
# message: a system call the sandbox denies
.intel_syntax noprefix
.text
stub:
  mov edi, 1
  xor esi, esi
  xor edx, edx
  xor r10d, r10d
  xor r8d, r8d
  xor r9d, r9d
  mov eax, 311
  syscall
  ret
