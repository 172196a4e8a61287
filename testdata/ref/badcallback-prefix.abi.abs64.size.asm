; badcallback-prefix, variant abi, model abs64, policy size: assembled by GNU as -O2 and nasm.
; Written by tools/refgen from DESIGN.md; do not edit.
bits 64
  sub rsp, 56
  mov rcx, -12
  mov qword [rsp], rcx
  mov rax, strict qword 0x150001000
  mov rax, qword [rax]
  call rax
  mov rcx, rax
  mov qword [rsp], rcx
  mov rdx, strict qword 0x150001020
  mov qword [rsp + 8], rdx
  mov r8, strict qword 0x150001010
  mov r8d, dword [r8]
  mov qword [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword [r9], 0
  mov qword [rsp + 24], r9
  mov qword [rsp + 32], 0
  mov rax, strict qword 0x150001008
  mov rax, qword [rax]
  call rax
  add rsp, 56
  ret
