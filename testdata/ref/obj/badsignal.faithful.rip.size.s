# badsignal, variant faithful, model rip, policy size: a COFF object by x86_64-w64-mingw32-as -O2.
# Written by tools/refgen from DESIGN.md; do not edit.
.intel_syntax noprefix
.text
.def runtime.badsignal; .scl 2; .type 32; .endef
.globl runtime.badsignal
.seh_proc runtime.badsignal
runtime.badsignal:
  sub rsp, 48
  .seh_stackalloc 48
  .seh_endprologue
  mov rcx, -12
  mov qword ptr [rsp], rcx
  mov rax, qword ptr [rip + __imp_GetStdHandle]
  call rax
  mov rcx, rax
  mov qword ptr [rsp], rcx
  lea rdx, [rip + runtime.badsignalmsg]
  mov qword ptr [rsp + 8], rdx
  lea r8d, [rip + runtime.badsignallen]
  mov qword ptr [rsp + 16], r8
  lea r9, [rsp + 40]
  mov qword ptr [r9], 0
  mov qword ptr [rsp + 24], r9
  mov qword ptr [rsp + 32], 0
  mov rax, qword ptr [rip + __imp_WriteFile]
  call rax
  add rsp, 48
  ret
.seh_endproc
.data
.balign 4, 0
.globl runtime.badsignallen
runtime.badsignallen: .long 54
.balign 16, 0
.globl runtime.badsignalmsg
runtime.badsignalmsg: .asciz "runtime: signal received on thread not created by Go.\n"
