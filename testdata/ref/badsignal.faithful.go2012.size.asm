; badsignal, variant faithful, model go2012, policy size: assembled by GNU as -O2 and nasm.
; Written by tools/refgen from DESIGN.md; do not edit.
bits 64
  sub rsp, 48
  mov rcx, -12
  mov qword [rsp], rcx
  mov rax, qword [0x401000]
  call rax
  mov rcx, rax
  mov qword [rsp], rcx
  mov rdx, 0x401060
  mov qword [rsp + 8], rdx
  mov r8d, 0x401014
  mov qword [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword [r9], 0
  mov qword [rsp + 24], r9
  mov qword [rsp + 32], 0
  mov rax, qword [0x401008]
  call rax
  add rsp, 48
  ret
