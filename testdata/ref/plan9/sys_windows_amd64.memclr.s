# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# memclr
  mov rdi, qword ptr [rsp + 8]
  mov rcx, qword ptr [rsp + 16]
  mov rbx, rcx
  and rbx, 7
  shr rcx, 3
  mov rax, 0
  cld
  rep stosq
  mov rcx, rbx
  rep stosb
  ret
