# WriteFile called with a 32-byte frame: room for the home area, none for its 5th argument (and misaligned)
# expect: call-alignment, call-alignment, stack-arguments
# message: 
# imports: GetStdHandle WriteFile
# data: text "hello\n"
.intel_syntax noprefix
.text
stub:
  sub rsp, 32
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  lea rdx, [rip + text]
  mov r8d, 6
  xor r9d, r9d
  call [rip + WriteFile]
  add rsp, 32
  ret
