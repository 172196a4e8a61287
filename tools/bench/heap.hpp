// Heap accounting for the benchmarks: every operator new of the process counted, so a benchmark can report
// the peak bytes one operation holds (memory per symbol, per stub).
#pragma once

#include <cstddef>

namespace w64stub::bench {

// Starts a measurement: the peak is the most bytes live above what was live here.
void heap_reset_peak();
size_t heap_peak();
size_t heap_allocations();  // since the last reset

}  // namespace w64stub::bench
