# xmm15 clobbered and not restored
# expect: nonvolatile
# message: XMM15 is nonvolatile
.intel_syntax noprefix
.text
stub:
  xorps xmm15, xmm15
  ret
