# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# usleep1
  mov r15, qword ptr gs:[0x28]
  cmp r15, 0
  jne 1f
  call rax
  ret
1:
  mov r14, qword ptr [r15 + 8]
  mov r14, qword ptr [r14]
  cmp qword ptr [r15], r14
  jne 2f
  call rax
  ret
2:
  mov r14, qword ptr [r14 + 16]
  mov qword ptr [r14 - 8], rsp
  lea rsp, [r14 - 8]
  call rax
  mov rsp, qword ptr [rsp]
  ret
