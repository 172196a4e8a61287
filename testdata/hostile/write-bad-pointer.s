# WriteFile from address 1
# expect: conformant
# message: 
# failure: WriteFile returned FALSE, GetLastError 1784
# imports: GetStdHandle WriteFile
.intel_syntax noprefix
.text
stub:
  sub rsp, 56
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  mov edx, 1
  mov r8d, 6
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
