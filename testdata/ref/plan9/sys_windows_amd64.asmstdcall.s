# Hand translation of testdata/go/sys_windows_amd64.s into Intel syntax (go2012 model), independent of
# w64stub; tools/refgen assembles it with GNU as and llvm-mc into the .hex beside it.
.intel_syntax noprefix
.text
# asmstdcall
  push rcx
  mov rax, qword ptr [rcx]
  mov rsi, qword ptr [rcx + 16]
  mov rcx, qword ptr [rcx + 8]
  mov rdi, qword ptr gs:[0x30]
  mov dword ptr [rdi + 0x68], 0
  sub rsp, 128
  cmp ecx, 4
  jle loadregs
  cmp ecx, 16
  jle 1f
  .byte 0xcd, 0x03  # INT $3 as Go writes it (go tool asm agrees, refgen --check); GNU as and llvm-mc write cc
1:
  mov rdi, rsp
  cld
  rep movsq
  mov rsi, rsp
loadregs:
  mov rcx, qword ptr [rsi]
  mov rdx, qword ptr [rsi + 8]
  mov r8, qword ptr [rsi + 16]
  mov r9, qword ptr [rsi + 24]
  call rax
  add rsp, 128
  pop rcx
  mov qword ptr [rcx + 24], rax
  mov rdi, qword ptr gs:[0x30]
  mov eax, dword ptr [rdi + 0x68]
  mov qword ptr [rcx + 40], rax
  ret
