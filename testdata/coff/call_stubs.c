// Calls the 2012 stubs linked from w64stub's COFF objects (src/out/coff_wine_test.cpp), as Go's runtime
// did: each writes its message to standard error through WriteFile, or - the faithful variant - fails with
// ERROR_INVALID_USER_BUFFER (1784). Prints what GetLastError says after each.
#include <stdio.h>
#include <windows.h>

// The Go names, as `w64stub obj` writes them (runtime·badcallback -> runtime.badcallback).
extern void badcallback(void) __asm__("runtime.badcallback");
extern void badsignal(void) __asm__("runtime.badsignal");

int main(void) {
  SetLastError(0);
  badcallback();
  printf("badcallback: last error %lu\n", GetLastError());
  SetLastError(0);
  badsignal();
  printf("badsignal: last error %lu\n", GetLastError());
  return 0;
}
