# badcallback, variant abi, model abs64, policy as: assembled by GNU as and llvm-mc.
# Written by tools/refgen from DESIGN.md; do not edit.
.intel_syntax noprefix
.text
  sub rsp, 56
  mov rcx, -12
  mov qword ptr [rsp], rcx
  movabs rax, 0x150001000
  mov rax, qword ptr [rax]
  call rax
  mov rcx, rax
  mov qword ptr [rsp], rcx
  movabs rdx, 0x150001020
  mov qword ptr [rsp + 8], rdx
  movabs r8, 0x150001010
  mov r8d, dword ptr [r8]
  mov qword ptr [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword ptr [r9], 0
  mov qword ptr [rsp + 24], r9
  mov qword ptr [rsp + 32], 0
  movabs rax, 0x150001008
  mov rax, qword ptr [rax]
  call rax
  add rsp, 56
  ret
