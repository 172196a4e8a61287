# badsignal, variant abi, model go2012, policy as: assembled by GNU as and llvm-mc.
# Written by tools/refgen from DESIGN.md; do not edit.
.intel_syntax noprefix
.text
  sub rsp, 56
  mov rcx, -12
  mov qword ptr [rsp], rcx
  mov rax, qword ptr [0x401000]
  call rax
  mov rcx, rax
  mov qword ptr [rsp], rcx
  mov rdx, 0x401060
  mov qword ptr [rsp + 8], rdx
  mov r8d, dword ptr [0x401014]
  mov qword ptr [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword ptr [r9], 0
  mov qword ptr [rsp + 24], r9
  mov qword ptr [rsp + 32], 0
  mov rax, qword ptr [0x401008]
  call rax
  add rsp, 56
  ret
