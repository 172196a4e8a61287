# WriteFile's buffer left in RDX from the call before
# expect: volatile-reliance
# message: RDX
# imports: GetStdHandle WriteFile
.intel_syntax noprefix
.text
stub:
  sub rsp, 56
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  mov r8d, 6
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
