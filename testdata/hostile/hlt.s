# a privileged instruction
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  hlt
  ret
