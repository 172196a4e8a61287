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
  sub rsp, 0x28
  .seh_stackalloc 0x28
  .seh_endprologue
  nop
  add rsp, 0x28
  pop rbp
  pop rbx
  ret
.seh_endproc
