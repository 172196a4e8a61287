# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  sub rsp, 0x30
  .seh_stackalloc 0x30
  .seh_endprologue
  nop
  add rsp, 0x30
  ret
.seh_endproc
