# 4 KiB above RSP overwritten: the caller's frame, the harness's saved registers and its return address
# expect: fault
# message: outside the stub
.intel_syntax noprefix
.text
stub:
  mov rdi, rsp
  add rdi, 8
  mov ecx, 512
  movabs rax, 0x4141414141414141
  rep stosq
  ret
