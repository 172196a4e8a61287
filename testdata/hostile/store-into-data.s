# a store into rip-model data, which lives in the read-execute text
# expect: fault
# message: SIGSEGV
# data: cell "\1\0\0\0"
.intel_syntax noprefix
.text
stub:
  mov dword ptr [rip + cell], 1
  ret
