# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# externalthreadhandler
  push rbp
  mov rbp, rsp
  push rbx
  push rsi
  push rdi
  push qword ptr gs:[0x28]
  mov rdx, rsp
  sub rsp, 128
  lea rcx, [rsp + 16]
  mov qword ptr gs:[0x28], rcx
  mov qword ptr [rcx + 8], rsp
  mov rbx, rsp
  sub rsp, 64
  mov qword ptr [rcx], rsp
  mov qword ptr [rbx], rsp
  lea rcx, [rsp - 8192]
  mov qword ptr [rsp], rcx
  mov qword ptr [rsp + 8], rdx
  push qword ptr [rbp + 32]
  call qword ptr [rbp + 16]
  pop rcx
  mov rcx, qword ptr gs:[0x28]
  mov rcx, qword ptr [rcx]
  mov rsp, qword ptr [rcx + 8]
  pop qword ptr gs:[0x28]
  pop rdi
  pop rsi
  pop rbx
  pop rbp
  ret
