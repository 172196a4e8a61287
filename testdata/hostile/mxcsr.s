# MXCSR's rounding mode changed and not restored
# expect: mxcsr
# message: 
.intel_syntax noprefix
.text
stub:
  sub rsp, 8
  stmxcsr [rsp]
  or dword ptr [rsp], 0x6000
  ldmxcsr [rsp]
  add rsp, 8
  ret
