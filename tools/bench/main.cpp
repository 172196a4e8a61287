// w64stub_bench: Google Benchmark's main, and `--write-plan9 N FILE` to write the whole-file benchmark's input.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "plan9_file.hpp"

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--write-plan9") {
    std::ofstream(argv[3]) << w64stub::bench::plan9_file(std::atoi(argv[2]));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
