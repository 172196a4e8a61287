// One stub, every path (badcallback, fixed variant, go2012 model: 18 instructions, 98 bytes, four
// relocations), side by side with the two figures everything is measured against (tools/bench/run prints
// each one's ratio to both):
//   - the asmjit baseline: asmjit's own x86::Assembler emitting exactly w64stub's bytes, written out below
//     and checked byte-identical to emit's before anything is timed;
//   - the physical limit: a memcpy of the pre-encoded bytes and four patched fields.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "heap.hpp"
#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/exec/jit.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/plan9/asm.hpp"

namespace {

using namespace w64stub;
namespace x86 = asmjit::x86;

constexpr uint64_t kCode = 0x402000, kData = 0x401000;

// badcallback (fixed) as a JIT author would write it with asmjit, at the catalog's addresses.
std::vector<uint8_t> asmjit_badcallback() {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64), kCode);
  x86::Assembler a(&code);
  a.sub(x86::rsp, 48);
  a.mov(x86::rcx, -12);
  a.mov(x86::qword_ptr(x86::rsp), x86::rcx);
  a.mov(x86::rax, x86::ptr_abs(kData + 0x00, 8));
  a.call(x86::rax);
  a.mov(x86::rcx, x86::rax);
  a.mov(x86::qword_ptr(x86::rsp), x86::rcx);
  a.mov(x86::rdx, kData + 0x20);
  a.mov(x86::qword_ptr(x86::rsp, 8), x86::rdx);
  a.mov(x86::r8d, x86::ptr_abs(kData + 0x10, 4));
  a.mov(x86::qword_ptr(x86::rsp, 16), x86::r8);
  a.lea(x86::r9, x86::ptr(x86::rsp, 40));
  a.mov(x86::qword_ptr(x86::r9), 0);
  a.mov(x86::qword_ptr(x86::rsp, 24), x86::r9);
  a.mov(x86::qword_ptr(x86::rsp, 32), 0);
  a.mov(x86::rax, x86::ptr_abs(kData + 0x08, 8));
  a.call(x86::rax);
  a.add(x86::rsp, 48);
  a.ret();
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  return {buf.data(), buf.data() + buf.size()};
}

const Program& badcallback() {
  static const Program program = *catalog_program("badcallback", Variant::Fixed);
  return program;
}

const Image& badcallback_image() {
  static const Image image = [] {
    Image i = *emit(badcallback(), {.model = Model::Go2012});
    if (asmjit_badcallback() != i.text.bytes) throw std::runtime_error("the asmjit baseline's bytes differ from emit's");
    return i;
  }();
  return image;
}

void BM_AsmjitBaseline(benchmark::State& state) {
  badcallback_image();  // checks the baseline's bytes
  for (auto _ : state) benchmark::DoNotOptimize(asmjit_badcallback());
}

void BM_MemcpyLimit(benchmark::State& state) {
  const Image& image = badcallback_image();
  std::vector<uint32_t> fields;
  for (const Relocation& r : image.relocations) fields.push_back(r.offset);
  uint8_t out[256];
  uint32_t value = 0x401000;
  for (auto _ : state) {
    std::memcpy(out, image.text.bytes.data(), image.text.bytes.size());
    for (uint32_t offset : fields) std::memcpy(out + offset, &value, 4);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
    ++value;
  }
}

void BM_EmitProgram(benchmark::State& state) {
  const Program& program = badcallback();
  size_t allocations = 0;
  for (auto _ : state) {
    bench::heap_reset_peak();
    auto image = emit(program, {.model = Model::Go2012});
    allocations = bench::heap_allocations();
    if (!image) state.SkipWithError("emit failed");
    benchmark::DoNotOptimize(image);
  }
  state.counters["allocations"] = static_cast<double>(allocations);
}

void BM_CatalogProgramAndEmit(benchmark::State& state) {
  for (auto _ : state) {
    auto image = emit(*catalog_program("badcallback", Variant::Fixed), {.model = Model::Go2012});
    if (!image) state.SkipWithError("emit failed");
    benchmark::DoNotOptimize(image);
  }
}

void BM_Plan9TextToImage(benchmark::State& state) {
  std::ifstream in(W64STUB_SOURCE_DIR "/testdata/go/badcallback.s");
  std::stringstream text;
  text << in.rdbuf();
  Plan9Options options;
  options.read = [source = text.str()](const std::string&) -> std::optional<std::string> { return source; };
  size_t allocations = 0;
  for (auto _ : state) {
    bench::heap_reset_peak();
    auto program = assemble_plan9_symbol("badcallback.s", "", options);
    auto image = program ? emit(*program, {.model = Model::Go2012}) : Expected<Image>(program.error());
    allocations = bench::heap_allocations();
    if (!image) state.SkipWithError(image.error().message.c_str());
    benchmark::DoNotOptimize(image);
  }
  state.counters["allocations"] = static_cast<double>(allocations);
}

void BM_Instantiate(benchmark::State& state) {
  const Image& image = badcallback_image();
  static const int callee = 0;
  const std::vector<Binding> bindings = {{"GetStdHandle", &callee}, {"WriteFile", &callee}};
  for (auto _ : state) {
    auto instance = instantiate(image, bindings, {.at_image_addresses = false});
    if (!instance) state.SkipWithError(instance.error().message.c_str());
    benchmark::DoNotOptimize(instance);
  }
}

void BM_Probe(benchmark::State& state) {
  const Image& image = badcallback_image();
  for (auto _ : state) {
    auto report = probe(image);
    if (!report) state.SkipWithError(report.error().message.c_str());
    benchmark::DoNotOptimize(report);
  }
}

BENCHMARK(BM_AsmjitBaseline);
BENCHMARK(BM_MemcpyLimit);
BENCHMARK(BM_EmitProgram);
BENCHMARK(BM_CatalogProgramAndEmit);
BENCHMARK(BM_Plan9TextToImage);
BENCHMARK(BM_Instantiate);
BENCHMARK(BM_Probe)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
