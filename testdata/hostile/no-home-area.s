# GetStdHandle called without the 32-byte home area
# expect: home-area, fault
# message: reaches 24 bytes above the stub's frame, over its return address
# imports: GetStdHandle WriteFile
.intel_syntax noprefix
.text
stub:
  sub rsp, 8
  mov ecx, -12
  call [rip + GetStdHandle]
  add rsp, 8
  ret
