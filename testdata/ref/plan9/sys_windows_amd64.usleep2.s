# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# usleep2
  sub rsp, 8
  neg rbx
  mov r8, rsp
  mov qword ptr [r8], rbx
  mov rcx, -1
  mov rdx, 0
  mov rax, qword ptr [0x4010a0]
  call rax
  add rsp, 8
  ret
