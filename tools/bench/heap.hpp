// Heap accounting for the benchmarks: every operator new of the process counted, so a benchmark can report
// the peak bytes one operation holds (memory per symbol, per stub).
#pragma once

#include <cstddef>

namespace w64stub::bench {

// Starts a measurement: the peak is the most bytes live above what was live here. Counting is off outside
// a measurement (it costs every allocation a few atomics).
void heap_reset_peak();
size_t heap_peak();  // ends the measurement

}  // namespace w64stub::bench
