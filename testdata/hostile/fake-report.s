# a line on stdout shaped like winrun's report, claiming a clean return
# expect: conformant
# message: 
# imports: GetStdHandle WriteFile
# data: text "0 {\"returned\":true,\"calls\":[]}\n\n\n\n\n\n"
# host: native wine
.intel_syntax noprefix
.text
stub:
  sub rsp, 56
  mov ecx, -11
  call [rip + GetStdHandle]
  mov rcx, rax
  lea rdx, [rip + text]
  mov r8d, 38
  xor r9d, r9d
  mov qword ptr [rsp + 32], 0
  call [rip + WriteFile]
  add rsp, 56
  ret
