# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbx
  .seh_pushreg rbx
  push rsi
  .seh_pushreg rsi
  sub rsp, 0x78
  .seh_stackalloc 0x78
  movaps xmmword ptr [rsp + 0x20], xmm6
  .seh_savexmm xmm6, 0x20
  movaps xmmword ptr [rsp + 0x60], xmm15
  .seh_savexmm xmm15, 0x60
  mov qword ptr [rsp + 0x40], rdi
  .seh_savereg rdi, 0x40
  .seh_endprologue
  nop
  movaps xmm6, xmmword ptr [rsp + 0x20]
  movaps xmm15, xmmword ptr [rsp + 0x60]
  mov rdi, qword ptr [rsp + 0x40]
  add rsp, 0x78
  pop rsi
  pop rbx
  ret
.seh_endproc
