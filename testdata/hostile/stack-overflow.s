# unbounded recursion: the stack runs out
# expect: fault
# message: SIGSEGV
.intel_syntax noprefix
.text
stub:
  sub rsp, 40
  call stub
  add rsp, 40
  ret
