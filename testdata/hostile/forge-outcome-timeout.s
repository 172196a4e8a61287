# fills the outcome page with 0x0a (the stop signal everywhere), then exit_group(72), the harness's timeout status
# expect: forged-outcome, died
# message: the harness's outcome was overwritten
.intel_syntax noprefix
.text
stub:
  mov rax, [rsp]
  cmp word ptr [rax], 0xbb49
  jne done
  mov rdi, [rax + 2]
  mov ecx, 65536
  mov al, 0x0a
  rep stosb
  mov edi, 72
  mov eax, 231
  syscall
done:
  ret
