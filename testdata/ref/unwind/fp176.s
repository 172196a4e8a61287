# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbp
  .seh_pushreg rbp
  sub rsp, 0x108
  .seh_stackalloc 0x108
  lea rbp, [rsp + 0xb0]
  .seh_setframe rbp, 0xb0
  .seh_endprologue
  nop
  add rsp, 0x108
  pop rbp
  ret
.seh_endproc
