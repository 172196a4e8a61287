# GetStdHandle called with RSP 8 off a multiple of 16
# expect: call-alignment
# message: 
# imports: GetStdHandle WriteFile
# host: native wine
.intel_syntax noprefix
.text
stub:
  sub rsp, 32
  mov ecx, -12
  call [rip + GetStdHandle]
  add rsp, 32
  ret
