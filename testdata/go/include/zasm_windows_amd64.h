// Structure offsets and TLS access for sys_windows_amd64.s, in the shape of the header the 2012 Go
// toolchain generated (zasm_GOOS_GOARCH.h). The offsets are this test's own, not a real runtime's.

// The TLS slot at 0x28(GS) holds the address of the current m/g pair.
#define get_tls(r) MOVQ 0x28(GS), r
#define g(r) 0(r)
#define m(r) 8(r)

#define g_stackguard 0
#define g_stackbase 8
#define g_sched 16
#define gobuf_sp 0
#define g_end 64

#define m_g0 0
#define m_tls 16
#define m_end 128

#define wincall_fn 0
#define wincall_n 8
#define wincall_args 16
#define wincall_r1 24
#define wincall_err 40
