// Linking a file's TEXT symbols into one Image, against GNU as itself: random files of functions that call,
// jump to and take the address of each other (their labels of the same names, some with a $N frame) must give
// GNU as's bytes for the same file, where function names are local symbols it relaxes jumps to.
#include "w64stub/emit/link.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>
#include <set>

#include "../testing/test_support.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

struct RandomFile {
  std::vector<Program> programs;
  std::string gnu;  // the same file in GNU as's Intel syntax
};

Instr filler(std::mt19937& rng, std::string& gnu) {
  switch (rng() % 3) {
    case 0: gnu += "  nop\n"; return Instr{x86::Inst::kIdNop, {}};
    case 1: gnu += "  add rax, rbx\n"; return Instr{x86::Inst::kIdAdd, {asmjit::Operand(x86::rax), asmjit::Operand(x86::rbx)}};
    default:
      gnu += "  mov eax, 0x12345678\n";
      return Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::eax), asmjit::Operand(asmjit::Imm(0x12345678))}};
  }
}

// Function `f` of `count` in file `file`: fillers, its own labels l0 and l1, and references to the others.
Program random_function(std::mt19937& rng, int file, int f, int count, std::string& gnu) {
  Program p;
  p.symbol = fmt::format("x{}f{}", file, f);
  p.loc = {"link.s", f + 1, 1};
  p.declared_frame = rng() % 3 == 0 ? 8 * static_cast<int32_t>(1 + rng() % 6) : 0;
  gnu += p.symbol + ":\n";
  if (p.declared_frame) gnu += fmt::format("  sub rsp, {}\n", p.declared_frame);
  bool bound[2] = {false, false};
  const int items = 4 + static_cast<int>(rng() % 16);
  for (int i = 0; i < items || !bound[0] || !bound[1]; ++i) {
    const int kind = static_cast<int>(rng() % 12);
    const int label = static_cast<int>(rng() % 2);
    const std::string other = fmt::format("x{}f{}", file, static_cast<int>(rng() % static_cast<unsigned>(count)));
    if (kind < 2 && !bound[label]) {
      bound[label] = true;
      p.instrs.push_back(Instr::bind(fmt::format("l{}", label)));
      gnu += fmt::format("{}_l{}:\n", p.symbol, label);
    } else if (kind < 4) {
      p.instrs.push_back(Instr{x86::Inst::kIdJne, {CodeLabel{fmt::format("l{}", label)}}});
      gnu += fmt::format("  jne {}_l{}\n", p.symbol, label);
    } else if (kind < 7) {
      const asmjit::InstId id = kind == 4 ? x86::Inst::kIdCall : kind == 5 ? x86::Inst::kIdJmp : x86::Inst::kIdJe;
      p.instrs.push_back(Instr{id, {SymbolAddr{other, 0}}});
      gnu += fmt::format("  {} {}\n", kind == 4 ? "call" : kind == 5 ? "jmp" : "je", other);
      if (std::find(p.externals.begin(), p.externals.end(), other) == p.externals.end()) p.externals.push_back(other);
    } else if (kind == 7) {
      p.instrs.push_back(Instr{x86::Inst::kIdLea, {asmjit::Operand(x86::rcx), SymbolMem{other, 0, 0}}});
      gnu += fmt::format("  lea rcx, [rip + {}]\n", other);
      if (std::find(p.externals.begin(), p.externals.end(), other) == p.externals.end()) p.externals.push_back(other);
    } else {
      for (int n = static_cast<int>(rng() % 30); n >= 0; --n) p.instrs.push_back(filler(rng, gnu));
    }
  }
  if (p.declared_frame) gnu += fmt::format("  add rsp, {}\n", p.declared_frame);
  p.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
  gnu += "  ret\n";
  return p;
}

RandomFile random_file(std::mt19937& rng, int file) {
  RandomFile r;
  const int count = 2 + static_cast<int>(rng() % 5);
  for (int f = 0; f < count; ++f) r.programs.push_back(random_function(rng, file, f, count, r.gnu));
  return r;
}

}  // namespace

TEST_CASE("a linked file equals GNU as's on 300 random files of calling functions (fixed seed)") {
  constexpr int kFiles = 300;
  std::mt19937 rng(20121128);
  std::vector<RandomFile> files;
  std::string source = ".intel_syntax noprefix\n.text\n";
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(random_file(rng, i));
    source += fmt::format(".balign 16384, 0xcc\n{}", files.back().gnu);
  }
  const std::string gnu = test::gnu_as_text(source, "link");
  REQUIRE_MESSAGE(!gnu.empty(), "GNU as (binutils) is needed: tools/bootstrap installs it");
  int short_between = 0;
  for (int i = 0; i < kFiles; ++i) {
    CAPTURE(i);
    const RandomFile& file = files[static_cast<size_t>(i)];
    auto linked = link(file.programs);
    REQUIRE_MESSAGE(linked.ok(), linked.error().message);
    auto image = emit(*linked, {.model = Model::Rip});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    const std::string ours(image->text.bytes.begin(), image->text.bytes.begin() + image->code_size);
    REQUIRE(gnu.size() >= static_cast<size_t>(i) * 16384 + ours.size());
    CHECK_MESSAGE(ours == gnu.substr(static_cast<size_t>(i) * 16384, ours.size()), file.gnu);
    // Every function is a Code symbol where GNU as put its label; the first is the entry.
    CHECK(image->symbols[0].name == file.programs[0].symbol);
    CHECK(image->entry_size() == image->symbols[1].address - image->text.address);
    for (const InstrInfo& in : image->instrs)
      short_between += in.length == 2 && (image->text.bytes[in.offset] == 0xeb || image->text.bytes[in.offset] == 0x74);
  }
  CHECK(short_between > 200);  // jumps between functions do relax
}

TEST_CASE("link: the entry and what it reaches, in file order, each with its own labels and frame") {
  auto function = [](std::string symbol, std::vector<std::string> calls, int32_t frame = 0) {
    Program p;
    p.symbol = std::move(symbol);
    p.declared_frame = frame;
    p.instrs.push_back(Instr::bind("loop"));
    for (const std::string& c : calls) p.instrs.push_back(Instr{x86::Inst::kIdCall, {SymbolAddr{c, 0}}});
    p.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{"loop"}}});
    p.externals = calls;
    return p;
  };
  const std::vector<Program> file = {function("a", {}), function("b", {"d", "elsewhere"}), function("c", {"a"}, 16),
                                     function("d", {"c"})};
  auto linked = link(file, "b");
  REQUIRE(linked.ok());
  std::vector<std::string> order;
  for (const Function& f : linked->functions) order.push_back(f.symbol);
  CHECK(order == std::vector<std::string>{"b", "a", "c", "d"});
  CHECK(linked->externals == std::vector<std::string>{"elsewhere"});
  CHECK(linked->functions[2].declared_frame == 16);
  CHECK(link(file, "a")->functions.size() == 1);
  CHECK(link(file, "z").error().message == "no TEXT symbol z to link");

  // A CALL to another function is resolved in place: no relocation, the rel32 reaches its Code symbol.
  auto image = emit(*linked, {.model = Model::Go2012});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  REQUIRE(image->relocations.size() == 1);
  CHECK(image->relocations[0].symbol == "elsewhere");
  CHECK(image->find_symbol("d")->kind == SymbolKind::Code);
  CHECK(image->find_symbol("elsewhere")->kind == SymbolKind::External);
  std::set<uint64_t> targets;  // as Zydis reads the CALLs
  for (const InstrInfo& in : image->instrs) {
    auto d = decode_one({image->text.bytes.data() + in.offset, in.length}, image->text.address + in.offset);
    REQUIRE(d.ok());
    if (d->flow == Flow::Call && d->target) targets.insert(*d->target);
  }
  for (const char* callee : {"a", "c", "d"}) CHECK(targets.count(image->find_symbol(callee)->address));

  // A function's address in an absolute field is written once the code is laid out; its relocation stays.
  Program e = function("e", {});
  e.instrs.insert(e.instrs.begin(), Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::rcx), SymbolAddr{"d", 8}}});
  e.externals = {"d"};
  std::vector<Program> with_e = file;
  with_e.push_back(e);
  auto absolute = emit(*link(with_e, "e"), {.model = Model::Go2012});
  REQUIRE_MESSAGE(absolute.ok(), absolute.error().message);
  auto mov = decode_one(absolute->text.bytes, absolute->text.address);
  REQUIRE(mov.ok());
  CHECK(mov->text == fmt::format("mov rcx, 0x{:X}", absolute->find_symbol("d")->address + 8));
  CHECK(absolute->relocations.at(0).symbol == "d");

  // Go's form: a jump to another function keeps rel32 (and its relocation), still resolved in place.
  Program tail = function("t", {});
  tail.instrs.insert(tail.instrs.begin(), Instr{x86::Inst::kIdJmp, {SymbolAddr{"a", 0}}});
  tail.externals = {"a"};
  const std::vector<Program> tail_file = {tail, function("a", {})};
  for (bool relax : {true, false}) {
    CAPTURE(relax);
    auto tails = emit(*link(tail_file, "t", {.relax_between_functions = relax}), {.model = Model::Rip});
    REQUIRE(tails.ok());
    auto jmp = decode_one(tails->text.bytes, tails->text.address);
    REQUIRE(jmp.ok());
    CHECK(jmp->length == (relax ? 2u : 5u));
    CHECK(jmp->target == tails->find_symbol("a")->address);
    CHECK(tails->relocations.size() == (relax ? 0u : 1u));
  }

  std::vector<Program> twice = {function("a", {}), function("a", {})};
  CHECK(link(twice).error().message.find("TEXT symbol a is defined twice") != std::string::npos);
}

TEST_CASE("link: without follow_calls, only what the entry reaches other than by CALL - a Linker links many entries") {
  auto function = [](std::string symbol, std::vector<std::string> calls, std::vector<std::string> jumps = {}) {
    Program p;
    p.symbol = std::move(symbol);
    for (const std::string& c : calls) p.instrs.push_back(Instr{x86::Inst::kIdCall, {SymbolAddr{c, 0}}});
    for (const std::string& j : jumps) p.instrs.push_back(Instr{x86::Inst::kIdJmp, {SymbolAddr{j, 0}}});
    p.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
    p.externals = calls;
    p.externals.insert(p.externals.end(), jumps.begin(), jumps.end());
    return p;
  };
  // a calls b and jumps to c; c calls d and jumps to e.
  const std::vector<Program> file = {function("a", {"b"}, {"c"}), function("b", {}), function("c", {"d"}, {"e"}),
                                     function("d", {}), function("e", {})};
  const Linker own(file, {.follow_calls = false}), all(file);
  auto names = [](const Program& p) {
    std::vector<std::string> out;
    for (const Function& f : p.functions) out.push_back(f.symbol);
    return out;
  };
  auto a = own.link("a");
  REQUIRE(a.ok());
  CHECK(names(*a) == std::vector<std::string>{"a", "c", "e"});
  CHECK(a->externals == std::vector<std::string>{"b", "d"});
  CHECK(names(*all.link("a")) == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(names(*own.link("c")) == std::vector<std::string>{"c", "e"});
  CHECK(names(*own.link("b")) == std::vector<std::string>{"b"});
  auto image = emit(*a, {.model = Model::Rip});  // the CALL to b is left to a relocation
  REQUIRE(image.ok());
  CHECK(image->find_symbol("b")->kind == SymbolKind::External);
  CHECK(own.link("z").error().message == "no TEXT symbol z to link");
}

TEST_CASE("link: a file's imports and data are shared, and must agree") {
  Program a, b;
  a.symbol = "a", b.symbol = "b";
  a.data = {DataSymbol{"msg", {1, 2}}};
  b.data = {DataSymbol{"msg", {1, 2}}};
  a.imports = {Import{"slot", "kernel32.dll", "Sleep", "", std::nullopt}};
  b.imports = a.imports;
  CHECK(link(std::vector<Program>{a, b})->data.size() == 1);
  b.data[0].bytes = {1, 3};
  CHECK(link(std::vector<Program>{a, b}).error().message.find("data msg differs between a and b") != std::string::npos);
  b.data = a.data;
  b.data[0].align = 8;  // the same bytes, laid out otherwise
  CHECK(link(std::vector<Program>{a, b}).error().message.find("data msg differs between a and b") != std::string::npos);
  b.data = a.data;
  b.imports[0].function = "ExitProcess";
  CHECK(link(std::vector<Program>{a, b}).error().message.find("import slot differs") != std::string::npos);
}

// A branch to another function's symbol plus an offset stays a branch there: only f+0 is f's label.
TEST_CASE("link: JMP and CALL to g+8 reach g's address + 8, not g") {
  Program f, g;
  f.symbol = "f", g.symbol = "g";
  f.externals = {"g"};
  f.instrs = {{x86::Inst::kIdCall, {SymbolAddr{"g", 8}}}, {x86::Inst::kIdJmp, {SymbolAddr{"g", 8}}}};
  for (int k = 0; k < 12; ++k) g.instrs.push_back({x86::Inst::kIdNop, {}});
  g.instrs.push_back({x86::Inst::kIdRet, {}});
  for (bool relax : {false, true}) {
    CAPTURE(relax);
    auto linked = link(std::vector<Program>{f, g}, "f", {.relax_between_functions = relax});
    REQUIRE_MESSAGE(linked.ok(), linked.error().message);
    auto image = emit(*linked, {.model = Model::Rip});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    const uint64_t target = image->find_symbol("g")->address + 8;
    for (size_t k = 0; k < 2; ++k) {
      const InstrInfo& at = image->instrs[k];
      auto decoded = decode_one({image->text.bytes.data() + at.offset, at.length}, image->text.address + at.offset);
      REQUIRE(decoded.ok());
      CHECK(decoded->target == target);
    }
  }
}
