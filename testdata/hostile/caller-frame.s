# a store above its own home area, into the caller's frame
# expect: caller-frame
# message: 
.intel_syntax noprefix
.text
stub:
  mov qword ptr [rsp + 48], 0
  ret
