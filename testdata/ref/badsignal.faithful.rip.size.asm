; badsignal, variant faithful, model rip, policy size: assembled by GNU as -O2 and nasm.
; Written by tools/refgen from DESIGN.md; do not edit.
bits 64
  sub rsp, 48
  mov rcx, -12
  mov qword [rsp], rcx
  mov rax, qword [rel GetStdHandle]
  call rax
  mov rcx, rax
  mov qword [rsp], rcx
  lea rdx, [rel badsignalmsg]
  mov qword [rsp + 8], rdx
  lea r8d, [rel badsignallen]
  mov qword [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword [r9], 0
  mov qword [rsp + 24], r9
  mov qword [rsp + 32], 0
  mov rax, qword [rel WriteFile]
  call rax
  add rsp, 48
  ret
align 8, db 0xcc
GetStdHandle: dq 0
WriteFile: dq 0
badsignallen: dd 54
badsignalmsg: db "runtime: signal received on thread not created by Go.", 10, 0
