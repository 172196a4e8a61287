// Windows calls w64stub's callback thunks (ThunkFactory::object_image, linked from its COFF object; see
// src/out/coff_wine_test.cpp): msvcrt's qsort calls thunks 0 and 1 as comparators, kernel32's
// EnumSystemLocalesW calls thunk 5 once per locale. Each thunk enters the one dispatcher, which calls its
// table entry's handler with its context first: a sort comes out in its own context's direction only if each
// thunk reached its own entry.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

struct Entry {
  void* handler;
  void* context;
};
struct Entry table[8] __asm__("w64stub.thunk_table");

extern int thunk0(const void*, const void*) __asm__("w64stub.thunk0");
extern int thunk1(const void*, const void*) __asm__("w64stub.thunk1");
extern BOOL CALLBACK thunk5(LPWSTR) __asm__("w64stub.thunk5");

struct Sort {
  int direction;
  int calls;
};

struct Locales {
  int count;
  int english;  // names starting "en"
};

static uint64_t compare(void* context, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  (void)c, (void)d;
  struct Sort* sort = context;
  ++sort->calls;
  const int x = *(const int*)a, y = *(const int*)b;
  return (uint64_t)(int64_t)(sort->direction * ((x > y) - (x < y)));
}

static uint64_t locale(void* context, uint64_t name, uint64_t b, uint64_t c, uint64_t d) {
  (void)b, (void)c, (void)d;
  struct Locales* locales = context;
  const wchar_t* id = (const wchar_t*)name;  // the LCID in hex, e.g. "00000409"
  ++locales->count;
  locales->english += wcslen(id) == 8 && wcstoul(id, NULL, 16) % 0x400 == 0x9;  // LANG_ENGLISH
  return TRUE;
}

static int sorted(const int* v, int n, int direction) {
  for (int k = 1; k < n; ++k)
    if (direction * (v[k] - v[k - 1]) < 0) return 0;
  return 1;
}

int main(void) {
  struct Sort up = {1, 0}, down = {-1, 0};
  struct Locales locales = {0, 0};
  table[0] = (struct Entry){(void*)compare, &up};
  table[1] = (struct Entry){(void*)compare, &down};
  table[5] = (struct Entry){(void*)locale, &locales};
  int a[10] = {5, 3, 9, 1, 7, 2, 8, 0, 6, 4}, b[10] = {5, 3, 9, 1, 7, 2, 8, 0, 6, 4};
  qsort(a, 10, sizeof a[0], thunk0);
  qsort(b, 10, sizeof b[0], thunk1);
  printf("thunk0: %s, %d calls\n", sorted(a, 10, 1) ? "ascending" : "NOT ascending", up.calls);
  printf("thunk1: %s, %d calls\n", sorted(b, 10, -1) ? "descending" : "NOT descending", down.calls);
  const BOOL ok = EnumSystemLocalesW(thunk5, LCID_INSTALLED);
  printf("thunk5: EnumSystemLocalesW %s, %d locales, %d English\n", ok ? "TRUE" : "FALSE", locales.count, locales.english);
  return 0;
}
