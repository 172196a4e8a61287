# testdata/coff/forms.s, model rip, by hand: the object GNU as (mingw-w64) makes of it is the reference for
# w64stub obj (tools/refgen assembles it into forms.rip.obj).
.intel_syntax noprefix
.text
.def forms.outer; .scl 2; .type 32; .endef
.globl forms.outer
.seh_proc forms.outer
forms.outer:
  sub rsp, 40
  .seh_stackalloc 40
  .seh_endprologue
  mov dword ptr [rip + forms.counter + 4], 5
  mov byte ptr [rip + forms.counter + 8], 1
  lea rax, [rip + forms.table + 8]
  lea rbx, [rip + forms.inner]
  call forms.inner
  call forms.helper
  mov rax, qword ptr [rip + __imp_Sleep]
  call rax
  jmp forms.tail
.seh_endproc
.def forms.inner; .scl 3; .type 32; .endef
forms.inner:
  inc qword ptr [rip + forms.table]
  ret
.def forms.tail; .scl 2; .type 32; .endef
.globl forms.tail
forms.tail:
  ret
.data
.balign 16, 0
.globl forms.table
forms.table: .quad 1, 2
.balign 16, 0
forms.counter: .zero 16
