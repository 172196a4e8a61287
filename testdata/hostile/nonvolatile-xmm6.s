# xmm6 clobbered and not restored
# expect: nonvolatile
# message: XMM6 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xorps xmm6, xmm6
  ret
