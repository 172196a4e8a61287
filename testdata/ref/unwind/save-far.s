# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbx
  .seh_pushreg rbx
  sub rsp, 0x100020
  .seh_stackalloc 0x100020
  movaps xmmword ptr [rsp + 0x100010], xmm7
  .seh_savexmm xmm7, 0x100010
  mov qword ptr [rsp + 0x80008], r12
  .seh_savereg r12, 0x80008
  .seh_endprologue
  nop
  mov r12, qword ptr [rsp + 0x80008]
  movaps xmm7, xmmword ptr [rsp + 0x100010]
  add rsp, 0x100020
  pop rbx
  ret
.seh_endproc
