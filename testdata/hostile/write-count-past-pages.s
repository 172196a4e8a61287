# WriteFile of 64 KiB from a 6-byte buffer: past the stub's own pages, not through the neighbours a batch gives it
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
  mov r8d, 0x10000
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
