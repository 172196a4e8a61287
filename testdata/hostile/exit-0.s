# exit_group(0) before returning: an exit status that could pass for the harness's
# expect: died
# message: 
.intel_syntax noprefix
.text
stub:
  mov edi, 0
  mov eax, 231
  syscall
  ret
