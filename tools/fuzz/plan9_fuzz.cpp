// libFuzzer target: any bytes as a Plan 9 file (which may #include itself) must assemble or fail with an
// error; never crash, hang or read out of bounds. The whole-file path (every symbol that assembles, the
// others refused, then all of them linked) is what runs. Each emitted Image must decode back (Zydis) into
// the instructions emit recorded, boundary for boundary: emission and the instruction map never disagree.
// And each Image made a Template and placed where it was emitted must be accepted and give its bytes back.
// Built in the asan preset (clang, W64STUB_FUZZ).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "w64stub/core/disasm.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/link.hpp"
#include "w64stub/emit/template.hpp"
#include "w64stub/plan9/asm.hpp"

namespace {

// Every recorded instruction decodes as one instruction of its length (raw BYTE/WORD/... data aside).
void check_round_trip(const w64stub::Program& program, const w64stub::Image& image) {
  for (const w64stub::InstrInfo& in : image.instrs) {
    if (in.program_index >= 0 && !program.instrs[static_cast<size_t>(in.program_index)].raw.empty()) continue;
    auto d = w64stub::decode_one({image.text.bytes.data() + in.offset, in.length}, image.text.address + in.offset);
    if (!d || d->length != in.length) std::abort();
  }
}

// The Image again, by a Template placed at its own addresses: slots unbound (zero), externals at the code's
// start, where emit points a branch to one (its absolute fields hold 0 instead: their bytes differ).
void check_template(const w64stub::Image& image) {
  auto made = w64stub::Template::make(image);
  if (!made && image.text.bytes.empty()) return;  // nothing to place: refused
  if (!made) std::abort();
  std::vector<uint64_t> bound;
  for (const w64stub::Symbol* s : made->bound_symbols())
    bound.push_back(s->kind == w64stub::SymbolKind::External ? image.text.address : 0);
  std::vector<uint8_t> text(made->text_size()), data(made->data_size());
  if (!made->place(image.text.address, image.data.address, bound, text, data).ok()) std::abort();
  bool absolute_external = false;
  for (const w64stub::Relocation& r : image.relocations) {
    const w64stub::Symbol* s = image.find_symbol(r.symbol);
    absolute_external |= r.kind != w64stub::RelocKind::Rel32 && s && s->kind == w64stub::SymbolKind::External;
  }
  if (absolute_external) return;
  if (text != image.text.bytes || data != image.data.bytes) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  w64stub::Plan9Options options{{"inc"}, [&](const std::string&) -> std::optional<std::string> { return text; }};
  auto file = w64stub::assemble_plan9_file("fuzz.s", options);
  if (!file) return 0;
  (void)file->report();
  for (const w64stub::Program& p : file->programs)
    for (w64stub::Model m : w64stub::kModels)
      if (auto image = w64stub::emit(p, {m})) check_round_trip(p, *image), check_template(*image);
  // The file linked into one Image, as asm FILE.s makes it.
  if (!file->programs.empty())
    if (auto linked = w64stub::link(file->programs))
      if (auto image = w64stub::emit(*linked, {w64stub::Model::Rip})) check_round_trip(*linked, *image);
  return 0;
}
