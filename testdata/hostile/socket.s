# socket(AF_INET, SOCK_STREAM): reach the network
# expect: syscall
# message: denies: socket (41)
.intel_syntax noprefix
.text
stub:
  mov edi, 2
  mov esi, 1
  xor edx, edx
  mov eax, 41
  syscall
  ret
