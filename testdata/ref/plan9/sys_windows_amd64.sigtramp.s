# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# sigtramp
  test dword ptr [rcx + 4], 6
  mov eax, 1
  jnz sigdone
  sub rsp, 56
  mov qword ptr [rsp], rcx
  mov qword ptr [rsp + 8], r8
  mov rcx, qword ptr gs:[0x28]
  mov rax, qword ptr [rcx + 8]
  cmp rax, 0
  je nom
  mov rcx, qword ptr [rcx]
  mov qword ptr [rsp + 16], rcx
  mov qword ptr [rsp + 24], rbx
  mov qword ptr [rsp + 32], rbp
  mov qword ptr [rsp + 40], rsi
  mov qword ptr [rsp + 48], rdi
  mov rbx, qword ptr [rsp + 24]
  mov rbp, qword ptr [rsp + 32]
  mov rsi, qword ptr [rsp + 40]
  mov rdi, qword ptr [rsp + 48]
nom:
  add rsp, 56
sigdone:
  ret
