// A C++ exception thrown through a stub from w64stub's COFF object (src/out/coff_wine_test.cpp): the stub's
// call to WriteFile reaches a function here (this file defines __imp_WriteFile, the slot the stub loads), which
// finds the stub's frame with RtlLookupFunctionEntry and throws; main catches it only if the unwinder can
// walk through the stub's frame, which it does by the object's .pdata/.xdata.
#include <windows.h>

#include <cstdio>
#include <stdexcept>

extern "C" void badcallback(void) __asm__("runtime.badcallback");

static BOOL WINAPI throwing_write(HANDLE, LPCVOID, DWORD, LPDWORD, LPOVERLAPPED) {
  const auto caller = reinterpret_cast<DWORD64>(__builtin_return_address(0));
  DWORD64 base = 0;
  const RUNTIME_FUNCTION* entry = RtlLookupFunctionEntry(caller, &base, nullptr);
  const bool found = entry && base + entry->BeginAddress == reinterpret_cast<DWORD64>(&badcallback) &&
                     caller < base + entry->EndAddress;
  std::printf("stub frame %s\n", found ? "found" : "NOT FOUND");
  throw std::runtime_error("thrown from WriteFile");
}

// The import slot the stub calls through: defined here, so ld binds the stub to it instead of kernel32's.
extern "C" void* __imp_WriteFile;
void* __imp_WriteFile = reinterpret_cast<void*>(&throwing_write);

int main() {
  try {
    badcallback();
    std::printf("not thrown\n");
  } catch (const std::runtime_error& e) {
    std::printf("caught: %s\n", e.what());
    return 0;
  }
  return 1;
}
