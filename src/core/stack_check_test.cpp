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

// 100,000 functions, each calling the next: one chain per function, the first 100,000 long. Recursion one
// level per call overflowed the thread's stack, and each chain held a copy of the rest (quadratic memory).
TEST_CASE("NOSPLIT chains of 100,000 calls: linear, the long ones shown by their first symbols and their last") {
  std::vector<Program> file;
  file.reserve(100000);
  for (int k = 0; k < 100000; ++k)
    file.push_back(text("f" + std::to_string(k), 8, k + 1 < 100000 ? std::vector<std::pair<asmjit::InstId, std::string>>{
                                                                       {x86::Inst::kIdCall, "f" + std::to_string(k + 1)}}
                                                                 : std::vector<std::pair<asmjit::InstId, std::string>>{}));
  const auto chains = nosplit_chains(file, 800);
  REQUIRE(chains.size() == 100000);
  CHECK(chains[0].length == 100000);
  CHECK(chains[0].bytes == 8 + 99999 * 16 + 8);  // each call: its return address and the callee's 8
  CHECK(chains[0].over);
  REQUIRE(chains[0].symbols.size() == NosplitChain::kShown);
  CHECK(chains[0].symbols[1] == "f1");
  CHECK(chains[0].symbols.back() == "f99999");
  CHECK(chains[99990].length == 10);
  CHECK(chains[99990].symbols.size() == 10);
  CHECK(chains[99990].symbols.back() == "f99999");
  CHECK(chains[99999].symbols == std::vector<std::string>{"f99999"});
  CHECK(chains[99999].bytes == 16);
}

