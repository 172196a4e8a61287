# an undefined instruction
# expect: fault
# message: SIGILL
.intel_syntax noprefix
.text
stub:
  nop
  ud2
  ret
