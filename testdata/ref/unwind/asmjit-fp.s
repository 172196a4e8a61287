# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  push rbp
  .seh_pushreg rbp
  mov rbp, rsp
  .seh_setframe rbp, 0
  push rbx
  .seh_pushreg rbx
  sub rsp, 0x20
  .seh_stackalloc 0x20
  .seh_endprologue
  nop
  lea rsp, [rbp - 0x8]
  pop rbx
  pop rbp
  ret
.seh_endproc
