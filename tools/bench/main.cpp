// w64stub_bench: Google Benchmark's main; `--repeat OP N` runs one op N times (tools/bench/count); and
// `--write-plan9 N FILE` writes the whole-file benchmark's input, `--write-jump-chain N FILE` relaxation's
// worst case.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "ops.hpp"
#include "plan9_file.hpp"

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--write-plan9") {
    std::ofstream(argv[3]) << w64stub::bench::plan9_file(std::atoi(argv[2]));
    return 0;
  }
  if (argc == 4 && std::string(argv[1]) == "--write-jump-chain") {
    std::ofstream(argv[3]) << w64stub::bench::jump_chain_file(std::atoi(argv[2]));
    return 0;
  }
  // The run host is forked before anything grows this process; not for other ops under callgrind, which
  // would follow it into the fork.
  const bool repeat = argc == 4 && std::string(argv[1]) == "--repeat";
  if (!repeat || std::string(argv[2]) == "probe+host") w64stub::bench::start_run_host();
  if (repeat) {
    for (const w64stub::bench::Op& op : w64stub::bench::ops()) {
      if (op.name != argv[2]) continue;
      auto run = op.make();
      for (long n = std::atol(argv[3]); n > 0; --n) run();
      return 0;
    }
    std::fprintf(stderr, "w64stub_bench: no op %s\n", argv[2]);
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
