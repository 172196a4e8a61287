// Jump relaxation against GNU as itself: 500 random programs of jumps, labels and fillers (fixed seed), each
// emitted by w64stub and assembled by GNU as (binutils, installed by tools/bootstrap), must give the same
// bytes. GNU as starts every jump short and grows it until stable; so must emit.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>

#include "../testing/jump_chain.hpp"
#include "../testing/test_support.hpp"
#include "relax_p.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

struct Random {
  Program program;
  std::string gnu;  // the same program in GNU as's Intel syntax
};

// Labels, jumps to them (forward and backward, jmp and jcc) and fillers of 1, 3 and 5 bytes, sized so that
// many jumps sit near the edge of rel8's reach.
Random random_program(std::mt19937& rng, int number) {
  Random r;
  r.program.symbol = fmt::format("p{}", number);
  r.program.loc = {"relax.s", 1, 1};
  const int labels = 2 + static_cast<int>(rng() % 4);
  const int items = 6 + static_cast<int>(rng() % 24);
  std::vector<int> placed(static_cast<size_t>(labels), -1);
  auto add = [&](Instr instr, std::string text) {
    r.program.instrs.push_back(std::move(instr));
    r.gnu += "  " + text + "\n";
  };
  for (int i = 0; i < items || std::find(placed.begin(), placed.end(), -1) != placed.end(); ++i) {
    const int kind = static_cast<int>(rng() % 10);
    const int label = static_cast<int>(rng() % static_cast<unsigned>(labels));
    const std::string name = fmt::format("p{}l{}", number, label);
    if (kind < 2 && placed[static_cast<size_t>(label)] < 0) {
      placed[static_cast<size_t>(label)] = i;
      r.program.instrs.push_back(Instr::bind(name));
      r.gnu += name + ":\n";
    } else if (kind < 4) {
      const bool jcc = rng() % 2;
      add(Instr{jcc ? x86::Inst::kIdJne : x86::Inst::kIdJmp, {CodeLabel{name}}}, fmt::format("{} {}", jcc ? "jne" : "jmp", name));
    } else {
      const int n = 1 + static_cast<int>(rng() % 40);  // a run of fillers
      for (int k = 0; k < n; ++k) {
        switch (rng() % 3) {
          case 0: add(Instr{x86::Inst::kIdNop, {}}, "nop"); break;
          case 1: add(Instr{x86::Inst::kIdAdd, {asmjit::Operand(x86::rax), asmjit::Operand(x86::rbx)}}, "add rax, rbx"); break;
          default: add(Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::eax), asmjit::Operand(asmjit::Imm(0x12345678))}}, "mov eax, 0x12345678");
        }
      }
    }
  }
  add(Instr{x86::Inst::kIdRet, {}}, "ret");
  return r;
}

// Two jumps that each reach their target only when the other is short: shrinking from rel32 keeps both
// long; GNU as, starting short, keeps both short.
Random mutual_pair() {
  Random r;
  r.program.symbol = "p0";
  r.program.loc = {"relax.s", 1, 1};
  auto nops = [&](int n) {
    for (int k = 0; k < n; ++k) r.program.instrs.push_back(Instr{x86::Inst::kIdNop, {}}), r.gnu += "  nop\n";
  };
  r.program.instrs.push_back(Instr::bind("p0k"));
  r.gnu += "p0k:\n";
  r.program.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{"p0l"}}});
  r.gnu += "  jmp p0l\n";
  nops(122);
  r.program.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{"p0k"}}});
  r.gnu += "  jmp p0k\n";
  nops(2);
  r.program.instrs.push_back(Instr::bind("p0l"));
  r.gnu += "p0l:\n";
  r.program.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
  r.gnu += "  ret\n";
  return r;
}

// The chain of test::jump_chain: checking every jump after each growth took one pass over the code per jump.
Random growth_chain(int jumps) {
  Random r;
  r.program.symbol = "chain";
  r.program.loc = {"relax.s", 1, 1};
  for (const test::ChainItem& item : test::jump_chain(jumps)) {
    const std::string label = fmt::format("c{}", item.index);
    switch (item.kind) {
      case test::ChainItem::Mov5:
        r.program.instrs.push_back(Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::eax), asmjit::Operand(asmjit::Imm(0x12345678))}});
        r.gnu += "  mov eax, 0x12345678\n";
        break;
      case test::ChainItem::Nop: r.program.instrs.push_back(Instr{x86::Inst::kIdNop, {}}), r.gnu += "  nop\n"; break;
      case test::ChainItem::Jump:
        r.program.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{label}}});
        r.gnu += "  jmp " + label + "\n";
        break;
      case test::ChainItem::Label: r.program.instrs.push_back(Instr::bind(label)), r.gnu += label + ":\n"; break;
    }
  }
  r.program.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
  r.gnu += "  ret\n";
  return r;
}

// The oracle: every jump checked after each pass, until none grows (what emit did before the worklist).
std::vector<bool> relax_by_passes(std::span<const uint32_t> lengths, std::span<const RelaxJump> jumps) {
  std::vector<uint32_t> length(lengths.begin(), lengths.end());
  std::vector<bool> short_form(jumps.size(), true);
  std::vector<int64_t> pos(length.size() + 1);
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t k = 0; k < length.size(); ++k) pos[k + 1] = pos[k] + length[k];
    for (size_t k = 0; k < jumps.size(); ++k) {
      const int64_t disp = pos[jumps[k].target] - (pos[jumps[k].item] + 2);
      if (short_form[k] && (disp < -128 || disp > 127))
        short_form[k] = false, length[jumps[k].item] = jumps[k].long_length, grew = true;
    }
  }
  return short_form;
}

}  // namespace

TEST_CASE("the relaxation worklist reaches the fixpoint of repeated passes (2,000 random codes)") {
  std::mt19937 rng(20261128);
  int kept_short = 0, grown = 0;
  for (int round = 0; round < 2000; ++round) {
    CAPTURE(round);
    const size_t items = 1 + rng() % 400;
    std::vector<uint32_t> lengths(items);
    std::vector<RelaxJump> jumps;
    for (size_t i = 0; i < items; ++i) {
      lengths[i] = static_cast<uint32_t>(1 + rng() % (round % 2 ? 3 : 12));  // dense and sparse codes
      if (rng() % 3 == 0) {
        lengths[i] = 2;
        const size_t reach = 1 + rng() % (round % 3 ? 120 : items);
        const size_t target = rng() % 2 ? std::min(items, i + rng() % reach) : i - std::min(i, static_cast<size_t>(rng() % reach));
        jumps.push_back({i, target, rng() % 2 ? 5u : 6u});
      }
    }
    const std::vector<bool> ours = relax_jumps(lengths, jumps), passes = relax_by_passes(lengths, jumps);
    REQUIRE(ours == passes);
    for (bool s : ours) (s ? kept_short : grown) += 1;
  }
  CHECK(kept_short > 10000);
  CHECK(grown > 10000);
}

TEST_CASE("jump relaxation equals GNU as's on 500 random programs (fixed seed)") {
  constexpr int kPrograms = 500;
  std::mt19937 rng(20121127);
  std::vector<Random> programs;
  // One GNU as run: each program at its own 8 KiB boundary, so each relaxes on its own.
  std::string source = ".intel_syntax noprefix\n.text\n";
  for (int i = 0; i < kPrograms; ++i) {
    programs.push_back(i == 0 ? mutual_pair() : random_program(rng, i));
    source += fmt::format(".balign 8192, 0xcc\n{}", programs.back().gnu);
  }
  const std::string gnu = test::gnu_as_text(source, "relax");
  REQUIRE_MESSAGE(!gnu.empty(), "GNU as (binutils) is needed: tools/bootstrap installs it");
  int short_jumps = 0;
  for (int i = 0; i < kPrograms; ++i) {
    CAPTURE(i);
    auto image = emit(programs[static_cast<size_t>(i)].program, {.model = Model::Rip});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    const std::string ours(image->text.bytes.begin(), image->text.bytes.begin() + image->code_size);
    REQUIRE(gnu.size() >= static_cast<size_t>(i) * 8192 + ours.size());
    CHECK_MESSAGE(ours == gnu.substr(static_cast<size_t>(i) * 8192, ours.size()), programs[static_cast<size_t>(i)].gnu);
    for (const InstrInfo& in : image->instrs) short_jumps += in.length == 2 && (image->text.bytes[in.offset] == 0xeb || image->text.bytes[in.offset] == 0x75);
  }
  CHECK(short_jumps > 500);  // the programs do exercise rel8
}

TEST_CASE("a chain of 2,000 jumps, each growing only after the next, relaxes as GNU as does") {
  const Random chain = growth_chain(2000);
  const std::string gnu = test::gnu_as_text(".intel_syntax noprefix\n.text\n" + chain.gnu, "chain");
  REQUIRE_MESSAGE(!gnu.empty(), "GNU as (binutils) is needed: tools/bootstrap installs it");
  auto image = emit(chain.program, {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  const std::string ours(image->text.bytes.begin(), image->text.bytes.begin() + image->code_size);
  REQUIRE(gnu.size() >= ours.size());
  CHECK(ours == gnu.substr(0, ours.size()));
  int long_jumps = 0;
  for (const InstrInfo& in : image->instrs) long_jumps += in.length == 5 && image->text.bytes[in.offset] == 0xe9;
  CHECK(long_jumps == 2000);  // every one grew, the last first
}
