# badcallback, variant abi, model rip, policy size: a COFF object by x86_64-w64-mingw32-as -O2.
# Written by tools/refgen from DESIGN.md; do not edit.
.intel_syntax noprefix
.text
.def runtime.badcallback; .scl 2; .type 32; .endef
.globl runtime.badcallback
.seh_proc runtime.badcallback
runtime.badcallback:
  sub rsp, 56
  .seh_stackalloc 56
  .seh_endprologue
  mov rcx, -12
  mov qword ptr [rsp], rcx
  mov rax, qword ptr [rip + __imp_GetStdHandle]
  call rax
  mov rcx, rax
  mov qword ptr [rsp], rcx
  lea rdx, [rip + runtime.badcallbackmsg]
  mov qword ptr [rsp + 8], rdx
  mov r8d, dword ptr [rip + runtime.badcallbacklen]
  mov qword ptr [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword ptr [r9], 0
  mov qword ptr [rsp + 24], r9
  mov qword ptr [rsp + 32], 0
  mov rax, qword ptr [rip + __imp_WriteFile]
  call rax
  add rsp, 56
  ret
.seh_endproc
.data
.balign 4, 0
.globl runtime.badcallbacklen
runtime.badcallbacklen: .long 51
.balign 16, 0
.globl runtime.badcallbackmsg
runtime.badcallbackmsg: .asciz "runtime: cgo callback on thread not created by Go.\n"
