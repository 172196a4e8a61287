# fills the outcome page with 0x0b (SIGSEGV everywhere), then exit_group(71), the harness's fault status
# expect: forged-outcome, fault
# message: the harness's outcome was overwritten
.intel_syntax noprefix
.text
stub:
  mov rax, [rsp]
  cmp word ptr [rax], 0xbb49
  jne done
  mov rdi, [rax + 2]
  mov ecx, 65536
  mov al, 0x0b
  rep stosb
  mov edi, 71
  mov eax, 231
  syscall
done:
  ret
