# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# callbackasm1
  mov qword ptr [rsp + 16], rcx
  mov qword ptr [rsp + 24], rdx
  mov qword ptr [rsp + 32], r8
  mov qword ptr [rsp + 40], r9
  mov rax, qword ptr [rsp]
  add rsp, 8
  mov rdx, 0
  mov rcx, 5
  div ecx
  imul rax, rax, 24
  lea rcx, [rsp + 8]
  push qword ptr [rcx + rdx]
  add rdx, 8
  pushfq
  xor ebx, ebx
  popfq
  mov eax, dword ptr [rcx + rdx - 8]
  pop qword ptr [rcx + rdx - 8]
  ret
