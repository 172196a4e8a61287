# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbx
  .seh_pushreg rbx
  sub rsp, 0x20
  .seh_stackalloc 0x20
  .seh_endprologue
  nop
  add rsp, 0x20
  pop rbx
  ret
.seh_endproc
