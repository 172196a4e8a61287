// Calls the symbols of testdata/go/sys_windows_amd64.s that C can call, from w64stub's one object of the
// whole file (src/out/coff_wine_test.cpp): asmstdcall (its argument in RCX, as Go's runtime passed it)
// calling a six-argument function through its stack-copying path, and getlasterror.
#include <stdint.h>
#include <stdio.h>
#include <windows.h>

// The layout zasm_windows_amd64.h gives WinCall (testdata/go/include).
struct WinCall {
  void* fn;
  uintptr_t n;
  uintptr_t* args;
  uintptr_t r1, r2, err;
};

extern void asmstdcall(struct WinCall* c) __asm__("runtime.asmstdcall");
extern uint32_t getlasterror(void) __asm__("runtime.getlasterror");

static uintptr_t weigh(uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t d, uintptr_t e, uintptr_t f) {
  SetLastError(77);
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

int main(void) {
  uintptr_t args[6] = {1, 10, 100, 1000, 10000, 100000};
  struct WinCall call = {(void*)weigh, 6, args, 0, 0, 0};
  asmstdcall(&call);
  printf("asmstdcall: r1 %llu err %llu\n", (unsigned long long)call.r1, (unsigned long long)call.err);
  SetLastError(1234);
  printf("getlasterror: %u\n", getlasterror());
  return 0;
}
