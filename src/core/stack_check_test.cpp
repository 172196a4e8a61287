#include "w64stub/core/stack_check.hpp"

#include <doctest/doctest.h>

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

Program text(std::string symbol, int32_t frame, std::vector<std::pair<asmjit::InstId, std::string>> calls) {
  Program p;
  p.symbol = std::move(symbol);
  p.declared_frame = frame;
  for (auto& [id, target] : calls) p.instrs.push_back(Instr{id, {SymbolAddr{target, 0}}});
  p.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
  return p;
}

}  // namespace

TEST_CASE("NOSPLIT chains: return addresses and declared frames along direct calls, as Go's linker counts") {
  const std::vector<Program> file = {
      text("a", 48, {{x86::Inst::kIdCall, "b"}, {x86::Inst::kIdCall, "c"}}),
      text("b", 40, {{x86::Inst::kIdJmp, "c"}}),  // a tail jump pushes nothing
      text("c", 16, {}),
      text("d", 0, {{x86::Inst::kIdCall, "elsewhere"}}),
      text("e", 8, {{x86::Inst::kIdCall, "e"}})};  // recursion: once round
  const auto chains = nosplit_chains(file, 128);
  REQUIRE(chains.size() == 5);
  // a: 8 (its caller's CALL) + 48, then CALL b: 8 + 40, JMP c: 16 = 120.
  CHECK(chains[0].symbols == std::vector<std::string>{"a", "b", "c"});
  CHECK(chains[0].bytes == 120);
  CHECK_FALSE(chains[0].over);
  CHECK(chains[1].bytes == 8 + 40 + 16);
  CHECK(chains[2].bytes == 8 + 16);
  CHECK(chains[3].symbols == std::vector<std::string>{"d", "elsewhere"});
  CHECK(chains[3].leaves_file);
  CHECK(chains[4].bytes == 8 + 8 + 8 + 8);
  CHECK(nosplit_chains(file, 119)[0].over);
}
