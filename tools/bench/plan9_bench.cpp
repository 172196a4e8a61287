// Whole Plan 9 files of N TEXT symbols (each with a loop, a frame, data and a call to the next): text to
// Programs, and text to one linked Image. Time and heap per symbol must stay flat from 10 to 10,000 symbols.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "heap.hpp"
#include "plan9_file.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/link.hpp"
#include "w64stub/plan9/asm.hpp"

namespace {

using namespace w64stub;

Plan9Options in_memory(const std::string& text) {
  Plan9Options options;
  options.read = [&text](const std::string&) -> std::optional<std::string> { return text; };
  return options;
}

// Times `step` (the file's text and its symbol count in; true when it gave what it should) on a generated
// file of state.range(0) symbols, with time and peak heap per symbol.
template <typename Step>
void whole_file(benchmark::State& state, Step step) {
  const int symbols = static_cast<int>(state.range(0));
  const std::string text = bench::plan9_file(symbols);
  const Plan9Options options = in_memory(text);
  size_t peak = 0;
  for (auto _ : state) {
    bench::heap_reset_peak();
    if (!step(options, static_cast<size_t>(symbols))) state.SkipWithError("did not assemble and link");
    peak = std::max(peak, bench::heap_peak());
  }
  state.counters["symbols"] = symbols;
  state.counters["time_per_symbol"] = benchmark::Counter(symbols, benchmark::Counter::kIsIterationInvariantRate |
                                                                      benchmark::Counter::kInvert);
  state.counters["heap_per_symbol"] = static_cast<double>(peak) / symbols;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_Plan9FileToPrograms(benchmark::State& state) {
  whole_file(state, [](const Plan9Options& options, size_t symbols) {
    auto file = assemble_plan9_file("bench.s", options);
    benchmark::DoNotOptimize(file);
    return file && file->programs.size() == symbols;
  });
}

void BM_Plan9FileToLinkedImage(benchmark::State& state) {
  whole_file(state, [](const Plan9Options& options, size_t symbols) {
    auto file = assemble_plan9_file("bench.s", options);
    auto program = file ? link(file->programs) : Expected<Program>(Error{"no file"});
    auto image = program ? emit(*program, {.model = Model::Rip}) : Expected<Image>(program.error());
    benchmark::DoNotOptimize(image);
    return image && image->symbols.size() == symbols + 1;
  });
}

BENCHMARK(BM_Plan9FileToPrograms)->RangeMultiplier(10)->Range(10, 10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Plan9FileToLinkedImage)->RangeMultiplier(10)->Range(10, 10000)->Unit(benchmark::kMillisecond);

}  // namespace
