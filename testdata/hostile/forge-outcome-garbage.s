# finds the harness's outcome page through its return address (mov r11, imm64) and fills 64 KiB of it with 0xff, then returns
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
  mov al, 0xff
  rep stosb
done:
  ret
