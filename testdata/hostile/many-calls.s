# 300 calls to GetStdHandle, more than the harness records
# expect: conformant
# message: 
# imports: GetStdHandle WriteFile
.intel_syntax noprefix
.text
stub:
  push rbx
  sub rsp, 32
  mov ebx, 300
again:
  mov ecx, -11
  call [rip + GetStdHandle]
  dec ebx
  jnz again
  add rsp, 32
  pop rbx
  ret
