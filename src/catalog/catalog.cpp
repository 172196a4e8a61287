#include "w64stub/catalog/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>

#include "w64stub/core/frame_plan.hpp"
#include "w64stub/emit/emit.hpp"

namespace w64stub {
namespace x86 = asmjit::x86;

namespace {

constexpr std::string_view kCallbackMessage = "runtime: cgo callback on thread not created by Go.\n";
constexpr std::string_view kSignalMessage = "runtime: signal received on thread not created by Go.\n";

struct Shape {
  std::string_view stub;
  std::string_view function;  // Go symbol without package
  std::string_view message;
  bool explicit_frame;        // post-fix badcallback: $0 and its own SUBQ/ADDQ
};

constexpr Shape kShapes[] = {
    {"badcallback", "badcallback", kCallbackMessage, true},
    {"badcallback-prefix", "badcallback", kCallbackMessage, false},
    {"badsignal", "badsignal", kSignalMessage, false},
};

// DESIGN.md's data page (0x401000 in go2012, 0x150001000 in abs64): the import slots, then both stubs' lengths
// and messages, each at its own place whichever stub is emitted.
struct PageSlot {
  std::string_view symbol;
  uint32_t offset;
};
constexpr PageSlot kDataPage[] = {
    {"runtime·GetStdHandle", 0x00}, {"runtime·WriteFile", 0x08},      {"runtime·badcallbacklen", 0x10},
    {"runtime·badsignallen", 0x14}, {"runtime·badcallbackmsg", 0x20}, {"runtime·badsignalmsg", 0x60},
};

std::optional<uint32_t> page_offset(std::string_view symbol) {
  for (const PageSlot& s : kDataPage)
    if (s.symbol == symbol) return s.offset;
  return std::nullopt;
}

constexpr CatalogStub kStubs[] = {
    {"badcallback", "runtime·badcallback after the 2012 fix: declared $0, explicit SUBQ/ADDQ $48"},
    {"badcallback-prefix", "runtime·badcallback before the fix: declared $48, the linker adjusts RSP"},
    {"badsignal", "runtime·badsignal: declared $48"},
};

const Shape* find_shape(std::string_view stub) {
  for (const Shape& s : kShapes)
    if (s.stub == stub) return &s;
  return nullptr;
}

// Appends Plan 9 source lines and the instruction each one means.
class Builder {
 public:
  Builder(Program& p, std::string_view file) : p_(p), file_(file) { p_.source_file = file_.str(); }

  void text(std::string line, int32_t declared) {
    lines_.push_back(std::move(line));
    p_.loc = here(1);
    p_.declared_frame = declared;
  }
  void line(std::string line, asmjit::InstId id, std::vector<Operand> ops = {}) {
    lines_.push_back(std::move(line));
    p_.instrs.push_back(Instr{id, std::move(ops), here(2)});
  }
  // The lines written, into the Program.
  void finish() { p_.source_lines = std::move(lines_); }

 private:
  SourceLoc here(int column) const { return {file_, static_cast<int>(lines_.size()), column}; }
  Program& p_;
  FileName file_;  // one name every location shares
  std::vector<std::string> lines_;
};

std::vector<uint8_t> int32_bytes(int32_t v) {
  std::vector<uint8_t> out(4);
  std::memcpy(out.data(), &v, 4);  // x86-64 is little-endian, like the target
  return out;
}

Program build(const Shape& shape, Variant variant) {
  const std::string fn = fmt::format("runtime·{}", shape.function);
  const std::string msg = fmt::format("{}msg", fn), len = fmt::format("{}len", fn);
  const std::string get_std_handle = "runtime·GetStdHandle", write_file = "runtime·WriteFile";
  // One outgoing stack argument (lpOverlapped) and one 8-byte local (the written count).
  const int32_t frame = variant == Variant::Abi ? plan_frame({.locals = 8, .call_args = 5})->allocation : 48;

  Program p;
  p.symbol = fn;
  p.imports = {{get_std_handle, "kernel32.dll", "GetStdHandle"}, {write_file, "kernel32.dll", "WriteFile"}};
  std::vector<uint8_t> text(shape.message.begin(), shape.message.end());
  text.push_back(0);
  p.data = {{len, int32_bytes(static_cast<int32_t>(shape.message.size())), 4}, {msg, std::move(text), 1}};
  place_on_catalog_page(p);

  auto q = [](int32_t off) { return x86::qword_ptr(x86::rsp, off); };
  Builder b(p, shape.stub);
  b.text(fmt::format("TEXT {}(SB),7,${}", fn, shape.explicit_frame ? 0 : frame), shape.explicit_frame ? 0 : frame);
  if (shape.explicit_frame)
    b.line(fmt::format("\tSUBQ\t${}, SP", frame), x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(frame)});
  b.line("\tMOVQ\t$-12, CX // stderr", x86::Inst::kIdMov, {x86::rcx, asmjit::Imm(-12)});
  b.line("\tMOVQ\tCX, 0(SP)", x86::Inst::kIdMov, {q(0), x86::rcx});
  b.line(fmt::format("\tMOVQ\t{}(SB), AX", get_std_handle), x86::Inst::kIdMov,
         {x86::rax, SymbolMem{get_std_handle, 0, 8}});
  b.line("\tCALL\tAX", x86::Inst::kIdCall, {x86::rax});
  b.line("\tMOVQ\tAX, CX\t// handle", x86::Inst::kIdMov, {x86::rcx, x86::rax});
  b.line("\tMOVQ\tCX, 0(SP)", x86::Inst::kIdMov, {q(0), x86::rcx});
  b.line(fmt::format("\tMOVQ\t${}(SB), DX // pointer", msg), x86::Inst::kIdMov, {x86::rdx, SymbolAddr{msg, 0}});
  b.line("\tMOVQ\tDX, 8(SP)", x86::Inst::kIdMov, {q(8), x86::rdx});
  if (variant == Variant::Faithful)
    b.line(fmt::format("\tMOVL\t${}(SB), R8 // count", len), x86::Inst::kIdMov, {x86::r8d, SymbolAddr{len, 0}});
  else
    b.line(fmt::format("\tMOVL\t{}(SB), R8 // count", len), x86::Inst::kIdMov, {x86::r8d, SymbolMem{len, 0, 4}});
  b.line("\tMOVQ\tR8, 16(SP)", x86::Inst::kIdMov, {q(16), x86::r8});
  b.line("\tLEAQ\t40(SP), R9  // written count", x86::Inst::kIdLea, {x86::r9, q(40)});
  b.line("\tMOVQ\t$0, 0(R9)", x86::Inst::kIdMov, {x86::qword_ptr(x86::r9), asmjit::Imm(0)});
  b.line("\tMOVQ\tR9, 24(SP)", x86::Inst::kIdMov, {q(24), x86::r9});
  b.line("\tMOVQ\t$0, 32(SP)\t// overlapped", x86::Inst::kIdMov, {q(32), asmjit::Imm(0)});
  b.line(fmt::format("\tMOVQ\t{}(SB), AX", write_file), x86::Inst::kIdMov, {x86::rax, SymbolMem{write_file, 0, 8}});
  b.line("\tCALL\tAX", x86::Inst::kIdCall, {x86::rax});
  if (shape.explicit_frame)
    b.line(fmt::format("\tADDQ\t${}, SP", frame), x86::Inst::kIdAdd, {x86::rsp, asmjit::Imm(frame)});
  b.line("\tRET", x86::Inst::kIdRet);
  b.finish();
  return p;
}

}  // namespace

std::string_view name(Variant variant) {
  switch (variant) {
    case Variant::Faithful: return "faithful";
    case Variant::Fixed: return "fixed";
    case Variant::Abi: return "abi";
  }
  return "?";
}

Expected<Variant> parse_variant(std::string_view text) {
  for (Variant v : kVariants)
    if (name(v) == text) return v;
  return Error{fmt::format("unknown variant '{}' (expected faithful, fixed or abi)", text)};
}

std::span<const CatalogStub> catalog_stubs() { return kStubs; }

namespace {

// A stub and variant's place among the catalog's Programs (and the tables kept per Program); nullopt for an
// unknown one.
std::optional<size_t> program_index(std::string_view stub, Variant variant) {
  const Shape* shape = find_shape(stub);
  const auto variant_index = static_cast<size_t>(std::find(std::begin(kVariants), std::end(kVariants), variant) - std::begin(kVariants));
  if (!shape || variant_index == std::size(kVariants)) return std::nullopt;
  return static_cast<size_t>(shape - kShapes) * std::size(kVariants) + variant_index;
}

}  // namespace

const Program* find_catalog_program(std::string_view stub, Variant variant) {
  const std::optional<size_t> index = program_index(stub, variant);
  if (!index) return nullptr;
  // Each stub and variant built once (text, lines, operands), on first use.
  static const auto built = [] {
    std::vector<Program> all;
    for (const Shape& sh : kShapes)
      for (Variant v : kVariants) all.push_back(build(sh, v));
    return all;
  }();
  return &built[*index];
}

const Template* find_catalog_template(std::string_view stub, Variant variant, Model model, Policy policy) {
  const std::optional<size_t> index = program_index(stub, variant);
  const auto model_index = static_cast<size_t>(std::find(std::begin(kModels), std::end(kModels), model) - std::begin(kModels));
  const auto policy_index = static_cast<size_t>(std::find(std::begin(kPolicies), std::end(kPolicies), policy) - std::begin(kPolicies));
  if (!index || model_index == std::size(kModels) || policy_index == std::size(kPolicies)) return nullptr;
  // One slot per Program of find_catalog_program, model and policy; each made once.
  struct Made {
    std::once_flag once;
    std::optional<Template> tpl;
  };
  constexpr size_t kPerProgram = std::size(kModels) * std::size(kPolicies);
  static Made made[std::size(kShapes) * std::size(kVariants) * kPerProgram];
  Made& slot = made[*index * kPerProgram + model_index * std::size(kPolicies) + policy_index];
  std::call_once(slot.once, [&] {
    if (auto image = emit(*find_catalog_program(stub, variant), {.model = model, .policy = policy}))
      if (auto tpl = Template::make(std::move(*image))) slot.tpl.emplace(std::move(*tpl));
  });
  return slot.tpl ? &*slot.tpl : nullptr;
}

Expected<Program> catalog_program(std::string_view stub, Variant variant) {
  if (const Program* program = find_catalog_program(stub, variant)) return *program;
  if (!find_shape(stub)) return Error{fmt::format("unknown stub '{}' (expected badcallback, badcallback-prefix or badsignal)", stub)};
  return Error{fmt::format("unknown variant {}", static_cast<int>(variant))};
}

std::string_view catalog_message(std::string_view stub) {
  const Shape* shape = find_shape(stub);
  return shape ? shape->message : std::string_view{};
}

void place_on_catalog_page(Program& program) {
  for (Import& i : program.imports)
    if (auto at = page_offset(i.symbol)) i.data_offset = at;
  for (DataSymbol& d : program.data)
    if (auto at = page_offset(d.symbol)) d.data_offset = at;
}

std::string_view summary(Variant variant) {
  switch (variant) {
    case Variant::Faithful: return "the 2012 text: WriteFile gets the ADDRESS of the length as its count";
    case Variant::Fixed: return "the count loaded by value (MOVL len(SB), R8)";
    case Variant::Abi: return "fixed, with a 56-byte frame so both CALLs are 16-byte aligned";
  }
  return "?";
}

namespace {

// The 2012 bug: WriteFile's DWORD count is (the low half of) the address of a data symbol, not its value.
void address_as_count(const Image& image, const RunReport& run, const CallRecord& call, std::vector<Finding>& out) {
  if (call.function != "WriteFile" || !call.answered || static_cast<uint32_t>(call.result) != 0) return;
  const auto count = static_cast<uint32_t>(call.args[2]);
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Data && count == static_cast<uint32_t>(run.address_of(s.name)))
      out.push_back({Finding::Note, fmt::format("nNumberOfBytesToWrite {:#x} is the address of {}, not its value",
                                                count, s.name)});
}

const Diagnosis kDiagnoses[] = {address_as_count};

}  // namespace

std::span<const Diagnosis> catalog_diagnoses() { return kDiagnoses; }

}  // namespace w64stub
