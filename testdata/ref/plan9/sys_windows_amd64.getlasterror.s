# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# getlasterror
  mov rax, qword ptr gs:[0x30]
  mov eax, dword ptr [rax + 0x68]
  ret
