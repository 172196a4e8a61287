# its return address overwritten, then ret
# expect: fault
# message: 
.intel_syntax noprefix
.text
stub:
  movabs rax, 0x414141414141
  mov [rsp], rax
  ret
