#include "heap.hpp"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

// Off until a benchmark starts a measurement: the count would otherwise add its own cost to every
// allocation of the ops whose instructions tools/bench/count reports.
std::atomic<bool> g_on{false};
// Signed: memory allocated before a measurement and freed during it takes live below the base.
std::atomic<int64_t> g_live{0}, g_base{0}, g_peak{0};

void* counted(size_t size) {
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  if (!g_on.load(std::memory_order_relaxed)) return p;
  const int64_t live = g_live += static_cast<int64_t>(malloc_usable_size(p));
  for (int64_t peak = g_peak; live > peak && !g_peak.compare_exchange_weak(peak, live);) {
  }
  return p;
}

void release(void* p) noexcept {
  if (!p) return;
  if (g_on.load(std::memory_order_relaxed)) g_live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}

}  // namespace

void* operator new(size_t size) { return counted(size); }
void* operator new[](size_t size) { return counted(size); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, size_t) noexcept { release(p); }
void operator delete[](void* p, size_t) noexcept { release(p); }

namespace w64stub::bench {

void heap_reset_peak() {
  g_on = true;
  g_base = g_live.load();
  g_peak = g_live.load();
}
size_t heap_peak() {
  g_on = false;
  return static_cast<size_t>(std::max<int64_t>(g_peak - g_base, 0));
}

}  // namespace w64stub::bench
