// zasm_GOOS_GOARCH.h for Go 1's linux/amd64 runtime files (../shared/go1), in the shape cmd/dist generated
// it from the runtime's C structures. These are w64stub's own: the macros the files use, with offsets of
// our choosing (not Go 1's), the same for w64stub and for `go tool asm` when tools/go-corpus compares them.
// linux/amd64 kept g and m at fixed offsets of the thread's segment: get_tls is empty.
#define get_tls(r)
#define g(r) 0(GS)
#define m(r) 8(GS)
#include "zasm_offsets.h"
