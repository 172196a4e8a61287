# returns by jumping to its return address with RSP 16 above it: 8 too high
# expect: rsp-balance
# message: 
.intel_syntax noprefix
.text
stub:
  mov rax, [rsp]
  add rsp, 16
  jmp rax
