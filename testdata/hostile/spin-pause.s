# an endless loop that pauses
# expect: timeout
# message: 
.intel_syntax noprefix
.text
stub:
again:
  pause
  jmp again
