# one WriteFile of 100,000 bytes, far more than the capture keeps
# expect: conformant
# message: 
# imports: GetStdHandle WriteFile
# data: big fill 100000 0x61
# host: native wine
.intel_syntax noprefix
.text
stub:
  sub rsp, 56
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  lea rdx, [rip + big]
  mov r8d, 100000
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
