# an endless loop
# expect: timeout
# message: 
# host: native wine
.intel_syntax noprefix
.text
stub:
again:
  jmp again
