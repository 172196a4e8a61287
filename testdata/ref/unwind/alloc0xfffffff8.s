# Written by tools/refgen; do not edit.
.intel_syntax noprefix
.text
.globl f
.seh_proc f
f:
  mov eax, 0xfffffff8
  sub rsp, rax
  .seh_stackalloc 0xfffffff8
  .seh_endprologue
  nop
  mov eax, 0xfffffff8
  add rsp, rax
  ret
.seh_endproc
