# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbx
  .seh_pushreg rbx
  push rbp
  .seh_pushreg rbp
  sub rsp, 0x68
  .seh_stackalloc 0x68
  lea rbp, [rsp + 0x50]
  .seh_setframe rbp, 0x50
  movaps xmmword ptr [rsp + 0x20], xmm6
  .seh_savexmm xmm6, 0x20
  mov qword ptr [rsp + 0x58], rsi
  .seh_savereg rsi, 0x58
  .seh_endprologue
  nop
  mov rsi, qword ptr [rsp + 0x58]
  movaps xmm6, xmmword ptr [rsp + 0x20]
  add rsp, 0x68
  pop rbp
  pop rbx
  ret
.seh_endproc
