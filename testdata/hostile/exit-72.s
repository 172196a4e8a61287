# exit_group(72) before returning: an exit status that could pass for the harness's
# expect: died
# message: 
.intel_syntax noprefix
.text
stub:
  mov edi, 72
  mov eax, 231
  syscall
  ret
