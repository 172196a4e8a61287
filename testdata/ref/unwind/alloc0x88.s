# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  sub rsp, 0x88
  .seh_stackalloc 0x88
  .seh_endprologue
  nop
  add rsp, 0x88
  ret
.seh_endproc
