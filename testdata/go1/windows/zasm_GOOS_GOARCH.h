// zasm_GOOS_GOARCH.h for Go 1's windows/amd64 runtime files (../shared/go1), in the shape cmd/dist generated
// it: the macros the files use, with offsets of our choosing (not Go 1's), the same for w64stub and for
// `go tool asm` when tools/go-corpus compares them. The TLS slot at 0x28(GS) holds the address of m and g.
#define get_tls(r) MOVQ 0x28(GS), r
#define g(r) 0(r)
#define m(r) 8(r)
#include "zasm_offsets.h"
