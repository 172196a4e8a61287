# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# cbctxt
  mov rcx, qword ptr [0x4010a0]
  mov rax, qword ptr [rcx + rax*8 - 8]
  ret
