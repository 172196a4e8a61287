# the direction flag left set
# expect: direction-flag
# message: 
# host: native wine
.intel_syntax noprefix
.text
stub:
  std
  ret
