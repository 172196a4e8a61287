# rbx clobbered and not restored
# expect: nonvolatile
# message: RBX is nonvolatile
# host: native wine
.intel_syntax noprefix
.text
stub:
  xor rbx, rbx
  ret
