; badcallback, variant abi, model rip, policy size: assembled by GNU as -O2 and nasm.
; Written by tools/refgen from DESIGN.md; do not edit.
bits 64
  sub rsp, 56
  mov rcx, -12
  mov qword [rsp], rcx
  mov rax, qword [rel GetStdHandle]
  call rax
  mov rcx, rax
  mov qword [rsp], rcx
  lea rdx, [rel badcallbackmsg]
  mov qword [rsp + 8], rdx
  mov r8d, dword [rel badcallbacklen]
  mov qword [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword [r9], 0
  mov qword [rsp + 24], r9
  mov qword [rsp + 32], 0
  mov rax, qword [rel WriteFile]
  call rax
  add rsp, 56
  ret
align 8, db 0xcc
GetStdHandle: dq 0
WriteFile: dq 0
badcallbacklen: dd 51
badcallbackmsg: db "runtime: cgo callback on thread not created by Go.", 10, 0
