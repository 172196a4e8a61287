// One stub, every path (badcallback, fixed variant, go2012 model: 18 instructions, 98 bytes of code, 84 of
// data, four relocations), side by side with the two figures everything is measured against
// (tools/bench/run prints each one's ratio to both):
//   - asmjit: asmjit's own x86::Assembler emitting exactly w64stub's bytes, written out below and checked
//     byte-identical to emit's before anything is timed;
//   - memcpy: the physical limit, a copy of the pre-encoded bytes (text and data, what a placed stub holds)
//     and four patched fields.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ops.hpp"
#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/template.hpp"
#include "w64stub/exec/arena.hpp"
#include "w64stub/exec/jit.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/exec/run_host.hpp"
#include "w64stub/exec/thunks.hpp"
#include "w64stub/out/coff.hpp"
#include "w64stub/plan9/asm.hpp"

namespace w64stub::bench {

namespace {

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

Program badcallback() { return *catalog_program("badcallback", Variant::Fixed); }

constexpr int kProbeBatch = 64;

Image badcallback_image() {
  Image image = *emit(badcallback(), {.model = Model::Go2012});
  if (asmjit_badcallback() != image.text.bytes) throw std::runtime_error("the asmjit baseline's bytes differ from emit's");
  return image;
}

template <typename T>
void keep(T&& value) {
  benchmark::DoNotOptimize(value);
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

std::unique_ptr<RunHost>& run_host() {
  static std::unique_ptr<RunHost> host;
  return host;
}

constexpr size_t kBenchThunks = size_t{1} << 20;
constexpr size_t kBatch = 1000;  // thunks per batch op; live stubs and thunks in the churn ops

__attribute__((ms_abi)) uint64_t null_handler(void*, uint64_t, uint64_t, uint64_t, uint64_t) { return 0; }

std::unique_ptr<ThunkFactory> new_thunk_factory() {
  auto created = ThunkFactory::create(kBenchThunks);
  check(created.ok(), "no factory");
  return std::make_unique<ThunkFactory>(std::move(*created));
}

// The two figures every op is measured against.
void add_baselines(std::vector<Op>& out) {
  out.push_back({"asmjit", [] {
                   badcallback_image();  // checks the baseline's bytes
                   return std::function<void()>([] { keep(asmjit_badcallback()); });
                 }});
  out.push_back({"memcpy", [] {
                   auto image = std::make_shared<Image>(badcallback_image());
                   auto text = std::make_shared<std::vector<uint8_t>>(image->text.bytes.size());
                   auto data = std::make_shared<std::vector<uint8_t>>(image->data.bytes.size());
                   return std::function<void()>([image, text, data, value = uint32_t{0x401000}]() mutable {
                     std::memcpy(text->data(), image->text.bytes.data(), image->text.bytes.size());
                     std::memcpy(data->data(), image->data.bytes.data(), image->data.bytes.size());
                     for (const Relocation& r : image->relocations) std::memcpy(text->data() + r.offset, &value, 4);
                     benchmark::DoNotOptimize(text->data());
                     benchmark::DoNotOptimize(data->data());
                     benchmark::ClobberMemory();
                     ++value;
                   });
                 }});
}

// Emission: a Program, the catalog's, Plan 9 text.
void add_emission(std::vector<Op>& out) {
  out.push_back({"emit", [] {
                   auto program = std::make_shared<Program>(badcallback());
                   return std::function<void()>([program] {
                     auto image = emit(*program, {.model = Model::Go2012});
                     check(image.ok(), "emit failed");
                     keep(image);
                   });
                 }});
  out.push_back({"catalog+emit", [] {
                   return std::function<void()>([] {
                     const Program* program = find_catalog_program("badcallback", Variant::Fixed);
                     check(program, "no such stub");
                     auto image = emit(*program, {.model = Model::Go2012});
                     check(image.ok(), "emit failed");
                     keep(image);
                   });
                 }});
  // The catalog's prepared stub (find_catalog_template: emitted once per process) as a whole Image at a new
  // code address each time: what catalog+emit gives, without encoding it again.
  out.push_back({"catalog+image_at", [] {
                   check(find_catalog_template("badcallback", Variant::Fixed, Model::Go2012, Policy::As), "no such stub");
                   return std::function<void()>([code = kCode]() mutable {
                     const Template* tpl = find_catalog_template("badcallback", Variant::Fixed, Model::Go2012, Policy::As);
                     check(tpl, "no such stub");
                     auto image = tpl->image_at(code, kData);
                     check(image.ok(), "image_at failed");
                     keep(image);
                     code = code + 0x1000 < 0x4000'0000 ? code + 0x1000 : kCode;
                   });
                 }});
  // What catalog_program's copy of the shared Program costs, on its own.
  out.push_back({"catalog-copy", [] {
                   return std::function<void()>([] {
                     auto program = catalog_program("badcallback", Variant::Fixed);
                     check(program.ok(), "no such stub");
                     keep(program);
                   });
                 }});
  out.push_back({"plan9+emit", [] {
                   std::ifstream in(W64STUB_SOURCE_DIR "/testdata/go/badcallback.s");
                   std::stringstream text;
                   text << in.rdbuf();
                   Plan9Options options;
                   options.read = [source = text.str()](const std::string&) -> std::optional<std::string> { return source; };
                   return std::function<void()>([options] {
                     auto program = assemble_plan9_symbol("badcallback.s", "", options);
                     check(program.ok(), "assemble failed");
                     auto image = emit(*program, {.model = Model::Go2012});
                     check(image.ok(), "emit failed");
                     keep(image);
                   });
                 }});
}

// Templates: placed into buffers, into an arena, freed and placed again.
void add_templates(std::vector<Op>& out) {
  out.push_back({"template", [] {
                   auto tpl = std::make_shared<Template>(*Template::make(badcallback_image()));
                   auto text = std::make_shared<std::vector<uint8_t>>(tpl->text_size());
                   auto data = std::make_shared<std::vector<uint8_t>>(tpl->data_size());
                   auto bound = std::make_shared<std::vector<uint64_t>>(tpl->bound_symbols().size(), 0x7f00'0000'1000);
                   return std::function<void()>([tpl, text, data, bound, code = kCode]() mutable {
                     check(tpl->place(code, kData, *bound, *text, *data).ok(), "place failed");
                     benchmark::DoNotOptimize(text->data());
                     benchmark::ClobberMemory();
                     code = code + 0x1000 < 0x4000'0000 ? code + 0x1000 : kCode;
                   });
                 }});
  // The template into executable memory: a CodeArena, committed every 1,000 stubs (rip model: the stub's
  // import slots and data travel in its text).
  out.push_back({"template+arena", [] {
                   auto tpl = std::make_shared<Template>(*Template::make(*emit(badcallback(), {.model = Model::Rip})));
                   auto created = CodeArena::create({.capacity = size_t{16} << 20});
                   check(created.ok(), "no arena");
                   auto arena = std::make_shared<CodeArena>(std::move(*created));
                   auto bound = std::make_shared<std::vector<uint64_t>>(tpl->bound_symbols().size(), 0x7f00'0000'1000);
                   return std::function<void()>([tpl, arena, bound, n = 0]() mutable {
                     auto slot = arena->allocate(tpl->text_size());
                     if (!slot) {  // full: start over (the old stubs are not called)
                       arena->reset();
                       slot = arena->allocate(tpl->text_size());
                     }
                     check(slot.ok() && tpl->place(slot->address, 0, *bound, slot->bytes, {}).ok(), "place failed");
                     if (++n % 1000 == 0) check(arena->commit().ok(), "commit failed");
                   });
                 }});
  // Stubs that come and go: 1,000 live in the arena, each op frees the oldest (its bytes int3, its space
  // a free block) and places a new stub, which reuses that space (committed every 1,000).
  out.push_back({"template+arena+free", [] {
                   auto tpl = std::make_shared<Template>(*Template::make(*emit(badcallback(), {.model = Model::Rip})));
                   auto created = CodeArena::create({.capacity = size_t{1} << 20});
                   check(created.ok(), "no arena");
                   auto arena = std::make_shared<CodeArena>(std::move(*created));
                   auto bound = std::make_shared<std::vector<uint64_t>>(tpl->bound_symbols().size(), 0x7f00'0000'1000);
                   auto live = std::make_shared<std::vector<uint64_t>>(kBatch);
                   for (uint64_t& address : *live) {
                     auto slot = arena->allocate(tpl->text_size());
                     check(slot.ok() && tpl->place(slot->address, 0, *bound, slot->bytes, {}).ok(), "place failed");
                     address = slot->address;
                   }
                   return std::function<void()>([tpl, arena, bound, live, n = size_t{0}]() mutable {
                     uint64_t& oldest = (*live)[n % kBatch];
                     check(arena->free(oldest, tpl->text_size()).ok(), "free failed");
                     auto slot = arena->allocate(tpl->text_size());
                     check(slot.ok() && tpl->place(slot->address, 0, *bound, slot->bytes, {}).ok(), "place failed");
                     oldest = slot->address;
                     if (++n % kBatch == 0) check(arena->commit().ok(), "commit failed");
                   });
                 }});
}

// Callback thunks, one at a time and by the thousand, against their limits.
void add_thunks(std::vector<Op>& out) {
  // Callback thunks: one made (16 bytes into the factory's arena and a table entry), against their limit,
  // a 16-byte copy and two patched fields.
  out.push_back({"thunk", [] {
                   auto factory = std::make_shared<std::unique_ptr<ThunkFactory>>(new_thunk_factory());
                   return std::function<void()>([factory] {
                     ThunkFactory* f = factory->get();
                     if (f->size() == kBenchThunks) [[unlikely]]  // full: a new one (rarely timed)
                       *factory = new_thunk_factory(), f = factory->get();
                     check(f->make(&null_handler, nullptr).ok(), "make failed");
                   });
                 }});
  // Callbacks that come and go: each op releases one thunk of 1,000 live ones and makes one (in its slot).
  out.push_back({"thunk-release", [] {
                   auto factory = std::make_shared<std::unique_ptr<ThunkFactory>>(new_thunk_factory());
                   auto live = std::make_shared<std::vector<uint64_t>>(kBatch);
                   for (uint64_t& address : *live) address = *(*factory)->make(&null_handler, nullptr);
                   return std::function<void()>([factory, live, n = size_t{0}]() mutable {
                     uint64_t& oldest = (*live)[n++ % kBatch];
                     check((*factory)->release(oldest).ok(), "release failed");
                     auto made = (*factory)->make(&null_handler, nullptr);
                     check(made.ok(), "make failed");
                     oldest = *made;
                   });
                 }});
  out.push_back({"thunk-limit", [] {
                   auto buffer = std::make_shared<std::vector<uint8_t>>(size_t{16} << 20);
                   return std::function<void()>([buffer, n = uint32_t{0}]() mutable {
                     uint8_t* at = buffer->data() + (n % (1u << 20)) * 16;
                     std::memcpy(at, buffer->data(), 16);
                     std::memcpy(at + 1, &n, 4);
                     std::memcpy(at + 6, &n, 4);
                     benchmark::DoNotOptimize(at);
                     ++n;
                   });
                 }});
  // The same by the thousand: one make() of 1,000 targets, against 1,000 copies of the limit in one loop
  // (per thunk, the op's count over 1,000: the call into the op no longer weighs on either).
  out.push_back({"thunk-batch", [] {
                   auto factory = std::make_shared<std::unique_ptr<ThunkFactory>>(new_thunk_factory());
                   auto targets = std::make_shared<std::vector<ThunkTarget>>(kBatch, ThunkTarget{&null_handler, nullptr});
                   auto addresses = std::make_shared<std::vector<uint64_t>>(kBatch);
                   for (size_t k = 0; k < kBatch; ++k) (*targets)[k].context = reinterpret_cast<void*>(k);
                   return std::function<void()>([factory, targets, addresses] {
                     ThunkFactory* f = factory->get();
                     if (f->size() + kBatch > kBenchThunks) [[unlikely]]  // full: a new one (rarely timed)
                       *factory = new_thunk_factory(), f = factory->get();
                     check(f->make(*targets, *addresses).ok(), "make failed");
                     benchmark::DoNotOptimize(addresses->data());
                   });
                 }});
  out.push_back({"thunk-batch-limit", [] {
                   auto buffer = std::make_shared<std::vector<uint8_t>>(size_t{16} << 20);
                   auto table = std::make_shared<std::vector<ThunkTarget>>(size_t{1} << 20);
                   auto targets = std::make_shared<std::vector<ThunkTarget>>(kBatch, ThunkTarget{&null_handler, nullptr});
                   return std::function<void()>([buffer, table, targets, n = uint32_t{0}]() mutable {
                     if (n + kBatch > (1u << 20)) n = 0;
                     for (size_t k = 0; k < kBatch; ++k, ++n) {
                       uint8_t* at = buffer->data() + size_t{n} * 16;
                       std::memcpy(at, buffer->data(), 16);
                       std::memcpy(at + 1, &n, 4);
                       std::memcpy(at + 6, &n, 4);
                       (*table)[n] = (*targets)[k];
                     }
                     benchmark::DoNotOptimize(buffer->data());
                     benchmark::ClobberMemory();
                   });
                 }});
}

// Delivery: a COFF object, executable memory, a probe (forked here, or by the run host).
void add_delivery(std::vector<Op>& out) {
  // A COFF object of the stub (write_object: sections, symbols, relocations, .pdata/.xdata).
  out.push_back({"object", [] {
                   auto image = std::make_shared<Image>(badcallback_image());
                   return std::function<void()>([image] {
                     auto object = write_object(*image);
                     check(object.ok(), "write_object failed");
                     keep(object);
                   });
                 }});
  out.push_back({"instantiate", [] {
                   auto image = std::make_shared<Image>(badcallback_image());
                   static const int callee = 0;
                   std::vector<Binding> bindings;  // every import bound to one (never called) address
                   for (const Symbol& s : image->symbols)
                     if (s.kind == SymbolKind::Import) bindings.push_back({s.function, &callee});
                   return std::function<void()>([image, bindings] {
                     auto instance = instantiate(*image, bindings, {.at_image_addresses = false});
                     check(instance.ok(), "instantiate failed");
                     keep(instance);
                   });
                 }});
  out.push_back({"probe", [] {
                   auto image = std::make_shared<Image>(badcallback_image());
                   return std::function<void()>([image] {
                     auto report = probe(*image);
                     check(report.ok(), "probe failed");
                     keep(report);
                   });
                 },
                 true});
  // The floor under any probe: a child forked here that exits at once, and reaped (a probe's child also
  // sets itself up, runs the stub under its sandbox and reports).
  out.push_back({"fork", [] {
                   return std::function<void()>([] {
                     const pid_t pid = fork();
                     if (pid == 0) _exit(0);
                     int status = 0;
                     check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status), "fork failed");
                   });
                 },
                 true});
  // A batch of stubs, relocated, probed together: up to 64 share a child and its set-up (per_stub: a stub's share).
  out.push_back({"probe-all", [] {
                   auto images = std::make_shared<std::vector<Image>>(kProbeBatch, badcallback_image());
                   return std::function<void()>([images] {
                     auto reports = probe_all(*images, {.at_image_addresses = false});
                     for (const auto& report : reports) check(report.ok(), "probe failed");
                     keep(reports);
                   });
                 },
                 true, kProbeBatch});
  out.push_back({"probe-all+host", [] {
                   auto images = std::make_shared<std::vector<Image>>(kProbeBatch, badcallback_image());
                   return std::function<void()>([images] {
                     auto reports = probe_all(*images, {.at_image_addresses = false, .host = run_host().get()});
                     for (const auto& report : reports) check(report.ok(), "probe failed");
                     keep(reports);
                   });
                 },
                 true, kProbeBatch});
  // The same probe, its child forked by the run host main started.
  out.push_back({"probe+host", [] {
                   auto image = std::make_shared<Image>(badcallback_image());
                   return std::function<void()>([image] {
                     auto report = probe(*image, {.host = run_host().get()});
                     check(report.ok(), "probe failed");
                     keep(report);
                   });
                 },
                 true});
}

std::vector<Op> make_ops() {
  std::vector<Op> out;
  add_baselines(out);
  add_emission(out);
  add_templates(out);
  add_thunks(out);
  add_delivery(out);
  return out;
}

// Cost per stub against the number of stubs: N badcallbacks (rip) placed from one template into a fresh
// CodeArena sized for them, committed every 1,000 - the arena created inside the timing.
void stubs(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const Template tpl = *Template::make(*emit(badcallback(), {.model = Model::Rip}));
  const std::vector<uint64_t> bound(tpl.bound_symbols().size(), 0x7f00'0000'1000);
  const size_t stride = (tpl.text_size() + 15) & ~size_t{15};
  for (auto _ : state) {
    auto arena = CodeArena::create({.capacity = n * stride});
    if (!arena) return state.SkipWithError(arena.error().message.c_str());
    for (size_t k = 0; k < n; ++k) {
      auto slot = arena->allocate(tpl.text_size());
      if (!slot || !tpl.place(slot->address, 0, bound, slot->bytes, {})) return state.SkipWithError("place failed");
      if (k % 1000 == 999 && !arena->commit()) return state.SkipWithError("commit failed");
    }
    if (!arena->commit()) return state.SkipWithError("commit failed");
  }
  state.counters["stubs"] = static_cast<double>(n);
  state.counters["per_stub"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                                            benchmark::Counter::kInvert);
}
BENCHMARK(stubs)->RangeMultiplier(10)->Range(1, 100000);

// One benchmark per op, under the op's name.
const bool registered = [] {
  for (const Op& op : ops()) {
    auto* b = benchmark::RegisterBenchmark(op.name.c_str(), [&op](benchmark::State& state) {
      try {
        auto run = op.make();
        for (auto _ : state) run();
        if (op.stubs > 1)
          state.counters["per_stub"] = benchmark::Counter(op.stubs, benchmark::Counter::kIsIterationInvariantRate |
                                                                        benchmark::Counter::kInvert);
      } catch (const std::exception& e) {
        state.SkipWithError(e.what());
      }
    });
    if (op.slow) b->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  return true;
}();

}  // namespace

void start_run_host() {
  auto host = RunHost::start();
  if (!host) throw std::runtime_error(host.error().message);
  run_host() = std::move(*host);
}

const std::vector<Op>& ops() {
  static const std::vector<Op> all = make_ops();
  return all;
}

}  // namespace w64stub::bench
