# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# getg
  mov rcx, qword ptr gs:[0x28]
  mov rax, qword ptr [rcx]
  ret
