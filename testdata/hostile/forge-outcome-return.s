# fills the outcome page with 0x01 (a return flag among it), then exit_group(0)
# expect: forged-outcome
# message: the harness's outcome was overwritten
.intel_syntax noprefix
.text
stub:
  mov rax, [rsp]
  cmp word ptr [rax], 0xbb49
  jne done
  mov rdi, [rax + 2]
  mov ecx, 65536
  mov al, 0x01
  rep stosb
  xor edi, edi
  mov eax, 231
  syscall
done:
  ret
