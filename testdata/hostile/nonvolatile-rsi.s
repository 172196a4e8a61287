# rsi clobbered and not restored
# expect: nonvolatile
# message: RSI is nonvolatile
.intel_syntax noprefix
.text
stub:
  xor rsi, rsi
  ret
