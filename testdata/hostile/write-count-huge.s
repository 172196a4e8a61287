# WriteFile of 2 GiB from a 6-byte buffer
# expect: conformant
# message: 
# failure: WriteFile returned FALSE, GetLastError 1784
# imports: GetStdHandle WriteFile
# data: text "hello\n"
.intel_syntax noprefix
.text
stub:
  sub rsp, 56
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  lea rdx, [rip + text]
  mov r8d, 0x7fffffff
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
