# badcallback, variant abi, model rip, policy as: assembled by GNU as and llvm-mc.
# Written by tools/refgen from DESIGN.md; do not edit.
.intel_syntax noprefix
.text
  sub rsp, 56
  mov rcx, -12
  mov qword ptr [rsp], rcx
  mov rax, qword ptr [rip + GetStdHandle]
  call rax
  mov rcx, rax
  mov qword ptr [rsp], rcx
  lea rdx, [rip + badcallbackmsg]
  mov qword ptr [rsp + 8], rdx
  mov r8d, dword ptr [rip + badcallbacklen]
  mov qword ptr [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword ptr [r9], 0
  mov qword ptr [rsp + 24], r9
  mov qword ptr [rsp + 32], 0
  mov rax, qword ptr [rip + WriteFile]
  call rax
  add rsp, 56
  ret
.balign 8, 0xcc
GetStdHandle: .quad 0
WriteFile: .quad 0
badcallbacklen: .long 51
badcallbackmsg: .asciz "runtime: cgo callback on thread not created by Go.\n"
