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
  push rdi
  .seh_pushreg rdi
  push rsi
  .seh_pushreg rsi
  push r12
  .seh_pushreg r12
  push r13
  .seh_pushreg r13
  sub rsp, 0x28
  .seh_stackalloc 0x28
  .seh_endprologue
  nop
  add rsp, 0x28
  pop r13
  pop r12
  pop rsi
  pop rdi
  pop rbp
  pop rbx
  ret
.seh_endproc
