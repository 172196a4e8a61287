// Templates against fresh emission: every catalog stub, variant, model and policy, placed at 40 random
// addresses (fixed seed) by patching, must be byte for byte what emit writes for those addresses.
#include "w64stub/emit/template.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <random>
#include <utility>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

// A page-aligned address the model can reach, away from `avoid` by more than a page or two.
uint64_t random_address(std::mt19937_64& rng, Model model, uint64_t avoid = 0) {
  for (;;) {
    const uint64_t limit = model == Model::Go2012 ? (uint64_t{1} << 31) - 0x100000 : uint64_t{1} << 46;
    const uint64_t address = (0x10000 + rng() % (limit - 0x10000)) & ~uint64_t{0xfff};
    if (avoid == 0 || address > avoid + 0x10000 || address + 0x10000 < avoid) return address;
  }
}

// A field of every form a placement moves: abs32s and abs32 from the data, from the code (a second
// function's address) and from a binding (an external), and one whose addend reaches far past its data, as
// memory or as an address (go2012: its data stops fitting at 0x1000000). The abs64 model has no 32-bit
// destination for an address.
Program fields_program(Model model, bool far_address) {
  Program p;
  p.symbol = "fields";
  const bool narrow = model != Model::Abs64;
  const Operand far = far_address ? Operand(SymbolAddr{"value", 0x7f000000}) : Operand(SymbolMem{"value", 0x7f000000, 8});
  p.instrs = {{x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolMem{"value", 0, 8}}},
              {x86::Inst::kIdMov, {narrow ? asmjit::Operand(x86::eax) : asmjit::Operand(x86::rax), SymbolAddr{"value", 4}}},
              {x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolAddr{"other", 0}}},
              {x86::Inst::kIdMov, {narrow ? asmjit::Operand(x86::ecx) : asmjit::Operand(x86::rcx), SymbolAddr{"other", 16}}},
              {x86::Inst::kIdMov, {asmjit::Operand(x86::rdx), far}},
              {x86::Inst::kIdMov, {asmjit::Operand(x86::rsi), SymbolAddr{"elsewhere", 0}}},
              {x86::Inst::kIdRet, {}},
              {x86::Inst::kIdRet, {}}};
  p.functions = {{"fields", 0, 0, {}}, {"other", 7, 0, {}}};
  p.externals = {"elsewhere"};
  p.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}};
  return p;
}

// Where each data symbol lies from the start of the data.
std::vector<uint64_t> data_layout(const Image& image) {
  std::vector<uint64_t> out;
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Data || s.kind == SymbolKind::Import) out.push_back(s.address - image.data.address);
  return out;
}

// The whole Image: what its file holds (sections, symbols, relocations, unwind data, ...), then the
// instruction map and the source, which the file leaves out.
void check_same_image(const Image& placed, const Image& fresh) {
  CHECK(imagefile::write(to_file(placed)) == imagefile::write(to_file(fresh)));
  REQUIRE(placed.instrs.size() == fresh.instrs.size());
  for (size_t k = 0; k < placed.instrs.size(); ++k) {
    const InstrInfo &p = placed.instrs[k], &f = fresh.instrs[k];
    CHECK((p.offset == f.offset && p.length == f.length && p.program_index == f.program_index && p.origin == f.origin &&
           p.loc.line == f.loc.line && placed.source_line(p) == fresh.source_line(f)));
  }
  CHECK(placed.policy == fresh.policy);
  CHECK((placed.text.name == fresh.text.name && placed.data.name == fresh.data.name));
  CHECK(placed.data.address == fresh.data.address);  // also without a data section, which the file leaves out
}

// place() must refuse exactly where a fresh emission at the same addresses refuses, and match its bytes
// where it does not. The data's page is where the data starts, less what precedes its first symbol in the
// page (`lead`). Returns how many placements were refused.
int place_like_emit(const Program& program, Model model, Policy policy, std::span<const std::pair<uint64_t, uint64_t>> at) {
  auto base = emit(program, {model, policy});
  REQUIRE_MESSAGE(base.ok(), base.error().message);
  const std::vector<AddressOverride> paged = {{"data", 0x400000}};
  const uint64_t lead = model == Model::Rip ? 0 : emit(program, {model, policy, paged})->data.address - 0x400000;
  auto made = Template::make(*base);
  REQUIRE(made.ok());
  int refused = 0;
  for (const std::pair<uint64_t, uint64_t>& placement : at) {
    const uint64_t code = placement.first, data = placement.second;
    CAPTURE(code);
    CAPTURE(data);
    // Unbound, as emit leaves them: an import slot zero; an external 0 in an absolute field, the code's start
    // in a relative one (here: rip's LEA).
    std::vector<uint64_t> unbound;
    for (const Symbol* s : made->bound_symbols())
      unbound.push_back(s->kind == SymbolKind::External && model == Model::Rip ? code : 0);
    std::vector<AddressOverride> where = {{"code", code}};
    if (model != Model::Rip) where.push_back({"data", data - lead});
    auto fresh = emit(program, {model, policy, where});
    // Given a data page, emit aligns the data symbols from it: its data may start past the page, or lie
    // otherwise than the template's, and then no emission has the template's data at `data`.
    const bool data_there = !fresh || model == Model::Rip || fresh->data.bytes.empty() ||
                            (fresh->data.address == data && data_layout(*fresh) == data_layout(*base));
    std::vector<uint8_t> text(made->text_size()), data_bytes(made->data_size());
    auto status = made->place(code, data, unbound, text, data_bytes);
    if (status.ok() != (fresh.ok() && data_there))
      FAIL_CHECK((status ? fmt::format("emit's data at {:#x}", fresh->data.address)
                  : fresh ? status.error().message : fresh.error().message));
    auto image = made->image_at(code, data);
    CHECK(image.ok() == status.ok());
    if (!fresh || !status) {
      ++refused;
      continue;
    }
    CHECK(text == fresh->text.bytes);
    CHECK(data_bytes == fresh->data.bytes);
    check_same_image(*image, *fresh);
  }
  return refused;
}

}  // namespace

TEST_CASE("a template placed anywhere equals a fresh emission there, bytes and Image: every stub, variant, model and policy") {
  std::mt19937_64 rng(20121128);
  int placements = 0;
  for (const CatalogStub& stub : catalog_stubs())
    for (Variant variant : kVariants)
      for (Model model : kModels)
        for (Policy policy : kPolicies) {
          CAPTURE(stub.name);
          CAPTURE(name(variant));
          CAPTURE(name(model));
          CAPTURE(name(policy));
          const Program program = *catalog_program(stub.name, variant);
          auto base = emit(program, {model, policy});
          if (!base) continue;  // the faithful text's MOVL $sym has no abs64 form (emit_test)
          auto made = Template::make(*base);
          REQUIRE(made.ok());
          const std::vector<uint64_t> unbound(made->bound_symbols().size(), 0);  // fresh slots are zero
          for (int k = 0; k < 40; ++k) {
            const uint64_t code = random_address(rng, model);
            const uint64_t data = random_address(rng, model, code);
            std::vector<AddressOverride> at = {{"code", code}};
            if (model != Model::Rip) at.push_back({"data", data});
            auto fresh = emit(program, {model, policy, at});
            REQUIRE_MESSAGE(fresh.ok(), fresh.error().message);
            std::vector<uint8_t> text(made->text_size()), data_bytes(made->data_size());
            REQUIRE(made->place(code, data, unbound, text, data_bytes).ok());
            CHECK(text == fresh->text.bytes);
            CHECK(data_bytes == fresh->data.bytes);
            auto image = made->image_at(code, data);
            REQUIRE_MESSAGE(image.ok(), image.error().message);
            check_same_image(*image, *fresh);
            ++placements;
          }
        }
  CHECK(placements >= 400);
}

TEST_CASE("a template fills its import slots, in the code or the data, and refuses a misplacement") {
  const std::vector<uint64_t> functions = {0x1111222233334444, 0x5555666677778888};
  for (Model model : {Model::Go2012, Model::Rip}) {
    CAPTURE(name(model));
    auto slotted = Template::make(*emit(*catalog_program("badsignal", Variant::Fixed), {model}));
    REQUIRE(slotted.ok());
    REQUIRE(slotted->bound_symbols().size() == 2);
    std::vector<uint8_t> code(slotted->text_size()), data(slotted->data_size());
    REQUIRE(slotted->place(0x7000'0000, 0x6000'0000, functions, code, data).ok());
    const Section& home = model == Model::Rip ? slotted->image().text : slotted->image().data;
    for (size_t k = 0; k < 2; ++k) {
      uint64_t held = 0;
      std::memcpy(&held, (model == Model::Rip ? code : data).data() + (slotted->bound_symbols()[k]->address - home.address), 8);
      CHECK(held == functions[k]);
    }
  }
  auto made = Template::make(*emit(*catalog_program("badsignal", Variant::Fixed), {Model::Rip}));
  std::vector<uint8_t> text(made->text_size());
  CHECK(made->place(0, 0, {}, text, {}).error().message == "runtime·badsignal: 0 bindings given, 2 wanted, or the buffers are smaller than the image");

  CHECK(made->place(kUserSpaceEnd, 0, functions, text, {}).error().message ==
        fmt::format("runtime·badsignal placed at 0x800000000000: code at 0x800000000000..{:#x} reaches past user "
                    "space's end (0x800000000000)", kUserSpaceEnd + made->text_size()));
  CHECK(made->place(kUserSpaceEnd - made->text_size(), 0, functions, text, {}).ok());
  CHECK_FALSE(made->place(kUserSpaceEnd - made->text_size() + 1, 0, functions, text, {}).ok());
}

TEST_CASE("a template refuses exactly the placements emit refuses: reach, overlap, every field's limits") {
  // Catalog stubs: data straddling the go2012 model's reach (2^31), code straddling its data.
  int refused = 0;
  for (const CatalogStub& stub : catalog_stubs())
    for (Variant variant : kVariants)
      for (Policy policy : kPolicies) {
        CAPTURE(stub.name);
        CAPTURE(name(variant));
        std::vector<std::pair<uint64_t, uint64_t>> at;
        for (uint64_t below = 0; below <= 400; below += 16) at.push_back({0x401000, (uint64_t{1} << 31) - below});
        for (uint64_t k = 0; k <= 400; k += 3) at.push_back({0x500000 + k, 0x500100});
        refused += place_like_emit(*catalog_program(stub.name, variant), Model::Go2012, policy, at);
      }
  CHECK(refused > 1000);

  // Each field form at its limits, address by address (the data by its 8-byte alignment) from well below to
  // past the last one emit accepts - a field's limit lies below the round number by its offset and addend:
  // code straddling 2^31 and 2^32 (the code's abs32s and abs32 fields), data straddling where the far
  // addend stops fitting, code straddling the data, code straddling user space's end, data at every
  // residue of its 8-byte alignment.
  std::vector<std::pair<uint64_t, uint64_t>> at;
  for (uint64_t k = 0; k <= 256; ++k) {
    at.push_back({(uint64_t{1} << 31) - 192 + k, 0x1000});
    at.push_back({(uint64_t{1} << 32) - 192 + k, 0x1000});
    at.push_back({0x401000, 0x1000000 - 1024 + 8 * k});
  }
  for (uint64_t k = 0; k <= 64; ++k) {
    at.push_back({0x1000 - 48 + k, 0x1000});
    at.push_back({kUserSpaceEnd - 96 + k, 0x1000});
    at.push_back({0x401000, 0x100000 + k});
  }
  at.push_back({kUserSpaceEnd, 0x1000});
  for (Model model : kModels)
    for (Policy policy : kPolicies)
      for (bool far_address : {false, true}) {
        CAPTURE(name(model));
        CAPTURE(far_address);
        CHECK(place_like_emit(fields_program(model, far_address), model, policy, at) > 0);
      }

  // Data that starts 4 bytes into its page (a length at a fixed offset), then import slots and a message
  // aligned to 16: placed at every residue, it keeps its layout only 4 bytes past a multiple of 16.
  Program offset = *catalog_program("badcallback", Variant::Fixed);
  for (Import& i : offset.imports) i.data_offset.reset();
  offset.data[0].data_offset = 4;
  offset.data[1].data_offset.reset();
  offset.data[1].align = 16;
  std::vector<std::pair<uint64_t, uint64_t>> residues;
  for (uint64_t k = 0; k < 48; ++k) residues.push_back({0x401000, 0x500000 + k});
  for (Model model : {Model::Go2012, Model::Abs64}) {
    CAPTURE(name(model));
    CHECK(place_like_emit(offset, model, Policy::As, residues) == 45);
  }
}

TEST_CASE("a template writes each binding into the fields that name it (as Zydis reads them)") {
  for (Model model : kModels) {
    CAPTURE(name(model));
    auto made = Template::make(*emit(fields_program(model, false), {model}));
    REQUIRE(made.ok());
    const uint64_t code = 0x7000000, data = 0x100000;
    const uint64_t elsewhere = model == Model::Rip ? code + 0x123450 : 0x1234560;
    std::vector<uint64_t> bound;
    for (const Symbol* s : made->bound_symbols()) bound.push_back(s->kind == SymbolKind::External ? elsewhere : 0);
    std::vector<uint8_t> text(made->text_size()), data_bytes(made->data_size());
    REQUIRE(made->place(code, data, bound, text, data_bytes).ok());
    int seen = 0;
    for (const Relocation& r : made->image().relocations) {
      if (r.symbol != "elsewhere") continue;
      const InstrInfo* in = made->image().instr_ending_at(r.instr_end);
      REQUIRE(in);
      auto decoded = decode_one({text.data() + in->offset, in->length}, code + in->offset);
      REQUIRE(decoded.ok());
      const size_t hex = decoded->text.rfind("0x");  // the address: an immediate, or rip's target resolved
      REQUIRE_MESSAGE(hex != std::string::npos, decoded->text);
      CHECK_MESSAGE(std::stoull(decoded->text.substr(hex), nullptr, 16) == elsewhere, decoded->text);
      ++seen;
    }
    CHECK(seen == 1);
  }
}

TEST_CASE("a template refuses an image with a field relative to its data, or reaching 2^40 bytes past it") {
  Image image = *emit(*catalog_program("badcallback", Variant::Fixed), {Model::Go2012});
  image.relocations.at(1).kind = RelocKind::Rel32;  // runtime·badcallbackmsg, a data symbol
  auto made = Template::make(image);
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().message == "runtime·badcallback: the rel32 field at 0x23 is relative to the code but names the data");

  image.relocations.at(1).kind = RelocKind::Abs32S;
  image.relocations.at(1).addend = int64_t{1} << 41;  // no section or addend is so large
  auto far = Template::make(image);
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message == "runtime·badcallback: the abs32s field at 0x23 reaches 0x20000000020 bytes from its section");
}

TEST_CASE("a template whose fields no address can hold refuses every placement") {
  // Two fields of the data that want disjoint data addresses: an abs32 field 1 MB before its symbol (the
  // data at 1 MB or above) and an abs32s field almost 2 GB past its own (the data below 1 MB).
  Image image = *emit(*catalog_program("badcallback", Variant::Faithful), {Model::Go2012});
  REQUIRE(image.relocations.at(1).kind == RelocKind::Abs32S);
  REQUIRE(image.relocations.at(2).kind == RelocKind::Abs32);
  image.relocations.at(1).addend = 0x7ff00000;
  image.relocations.at(2).addend = -0x100000;
  auto made = Template::make(image);
  REQUIRE(made.ok());
  const std::vector<uint64_t> unbound(made->bound_symbols().size(), 0);
  std::vector<uint8_t> text(made->text_size()), data(made->data_size());
  for (uint64_t at : {uint64_t{0}, uint64_t{0x10000}, uint64_t{0xff000}, uint64_t{0x100000}, image.data.address, uint64_t{0x7fff0000}}) {
    CAPTURE(at);
    auto placed = made->place(0x401000, at, unbound, text, data);
    REQUIRE_FALSE(placed.ok());
    CHECK(placed.error().message.find("field at 0x") != std::string::npos);
  }
}

TEST_CASE("a template of no code is refused: nothing to place") {
  Program empty;
  empty.symbol = "empty";
  for (Model model : kModels) {
    CAPTURE(name(model));
    auto image = emit(empty, {model});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    auto made = Template::make(*image);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().message == "empty: no code to place");
  }
}

TEST_CASE("a template knows what its code does with its data: shared only where no instruction writes it") {
  using Use = Template::DataUse;
  auto use_of = [](std::vector<Instr> instrs, Model model = Model::Go2012) {
    Program p;
    p.symbol = "use";
    p.instrs = std::move(instrs);
    p.instrs.push_back({x86::Inst::kIdRet, {}});
    p.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}, DataSymbol{"other", std::vector<uint8_t>(8, 0), 8}};
    auto image = emit(p, {.model = model});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    return Template::make(*image)->data_use();
  };
  const asmjit::Operand rax = x86::rax;
  const Instr load{x86::Inst::kIdMov, {rax, SymbolMem{"value", 0, 8}}};
  const Instr store{x86::Inst::kIdMov, {SymbolMem{"other", 0, 8}, rax}};
  CHECK(use_of({load}) == Use::Read);
  CHECK(use_of({load, {x86::Inst::kIdCmp, {rax, SymbolMem{"other", 0, 8}}}}) == Use::Read);
  CHECK(use_of({load, store}) == Use::Written);
  CHECK(use_of({{x86::Inst::kIdInc, {SymbolMem{"value", 0, 8}}}}) == Use::Written);  // read-modify-write
  CHECK(use_of({{x86::Inst::kIdLea, {rax, SymbolMem{"value", 0, 8}}}}) == Use::AddressTaken);
  CHECK(use_of({load, {x86::Inst::kIdMov, {rax, SymbolAddr{"value", 0}}}}) == Use::AddressTaken);
  // MOVQ $value(SB), 8(SP): the instruction writes memory, but not the data: its field is the immediate.
  CHECK(use_of({load, {x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 8), SymbolAddr{"value", 0}}}}) == Use::AddressTaken);
  CHECK(use_of({load}, Model::Abs64) == Use::Read);
  CHECK(use_of({{x86::Inst::kIdMov, {rax, SymbolAddr{"value", 0}}}}, Model::Abs64) == Use::AddressTaken);  // movabs
  CHECK(use_of({load, store}, Model::Rip) == Use::None);  // the data travels in the text
  CHECK(use_of({}) == Use::None);
  // badcallback hands its message's address to WriteFile: shared only on the caller's word.
  auto badcallback = emit(*catalog_program("badcallback", Variant::Fixed), {.model = Model::Go2012});
  CHECK(Template::make(*badcallback)->data_use() == Use::AddressTaken);

  // Sharing is refused where the code writes its data, and checked as place() checks the addresses.
  Program writer;
  writer.symbol = "writer";
  writer.instrs = {store, {x86::Inst::kIdRet, {}}};
  writer.data = {DataSymbol{"other", std::vector<uint8_t>(8, 0), 8}};
  auto written = Template::make(*emit(writer, {.model = Model::Go2012}));
  REQUIRE(written.ok());
  std::vector<uint8_t> text(written->text_size());
  CHECK(written->place_sharing_data(0x400000, 0x500000, {}, text).error().message ==
        "writer: its code writes its data: every stub needs a copy of its own (place)");
  Program reader = writer;
  reader.instrs = {load, {x86::Inst::kIdRet, {}}};
  reader.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}};
  auto shared = Template::make(*emit(reader, {.model = Model::Go2012}));
  REQUIRE(shared.ok());
  CHECK(shared->place_sharing_data(0x400000, 0x500000, {}, text).ok());
  CHECK_FALSE(shared->place_sharing_data(0x400000, 0x500004, {}, text).ok());  // not at the data's alignment
  CHECK_FALSE(shared->place_sharing_data(0x400000, uint64_t{1} << 31, {}, text).ok());  // past go2012's reach
}

TEST_CASE("a copy of a template outlives its original: its bindings are its own image's symbols") {
  std::optional<Template> copy;
  {
    auto made = Template::make(*emit(*catalog_program("badsignal", Variant::Fixed), {Model::Go2012}));
    REQUIRE(made.ok());
    copy.emplace(static_cast<const Template&>(*made));
  }  // the original is gone
  const std::vector<const Symbol*> bound = copy->bound_symbols();
  REQUIRE(bound.size() == 2);
  for (const Symbol* s : bound) {
    CHECK(s >= copy->image().symbols.data());
    CHECK(s < copy->image().symbols.data() + copy->image().symbols.size());
    CHECK(s->kind == SymbolKind::Import);
  }
  auto image = copy->image_at(0x10000000, 0x20000000);
  REQUIRE(image.ok());
  CHECK(image->text.address == 0x10000000);
  CHECK(image->data.address == 0x20000000);
}
