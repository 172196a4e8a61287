# exit_group(71) before returning: an exit status that could pass for the harness's
# expect: died
# message: 
.intel_syntax noprefix
.text
stub:
  mov edi, 71
  mov eax, 231
  syscall
  ret
