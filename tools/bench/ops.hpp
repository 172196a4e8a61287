// The operations the benchmarks time, each made once (its setup) and then run many times. Google Benchmark
// times them (stub_bench.cpp registers one benchmark per op); `w64stub_bench --repeat NAME N` runs one N
// times in a plain loop, so that tools/bench/count can take callgrind's instruction count per operation as
// the difference between two repeat counts - the stable figure.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace w64stub::bench {

struct Op {
  std::string name;
  std::function<std::function<void()>()> make;  // the setup; returns the operation (which throws on failure)
  bool slow = false;                            // milliseconds an operation (the probe): timed in real time
  int stubs = 1;                                // stubs an operation handles (probe-all: a batch of them)
};

const std::vector<Op>& ops();

// Starts the run host the op probe+host uses: main calls it first, while this process is small, so that the
// op costs what a probe costs in a large host that started its run host early.
void start_run_host();

}  // namespace w64stub::bench
