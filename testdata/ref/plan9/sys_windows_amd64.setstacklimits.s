# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# setstacklimits
  mov rcx, qword ptr gs:[0x30]
  mov qword ptr [rcx + 0x10], 0
  mov rax, 0xffffffffffff
  mov qword ptr [rcx + 8], rax
  ret
