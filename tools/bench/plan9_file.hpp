// The generated Plan 9 file the whole-file benchmarks assemble: N TEXT symbols of eight lines each (a $40
// frame, a loop, a compare with a data symbol, a call to the next). `w64stub_bench --write-plan9 N FILE`
// writes it for callgrind runs of the CLI.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "../../src/testing/jump_chain.hpp"

namespace w64stub::bench {

inline std::string plan9_file(int symbols) {
  std::string text = "DATA ·limit+0(SB)/8, $100\nGLOBL ·limit(SB), $8\n\n";
  for (int k = 0; k < symbols; ++k) {
    text += fmt::format("TEXT ·f{}(SB),7,$40\n\tMOVQ\tCX, AX\n\tADDQ\t${}, AX\nloop:\n\tDECQ\tAX\n", k, k);
    text += "\tCMPQ\tAX, ·limit(SB)\n\tJGT\tloop\n\tMOVQ\tAX, CX\n";
    text += k + 1 < symbols ? fmt::format("\tCALL\t·f{}(SB)\n\tRET\n\n", k + 1) : "\tRET\n\n";
  }
  return text;
}

// Jump relaxation's worst case (test::jump_chain) as Plan 9 text. `w64stub_bench --write-jump-chain N FILE`
// writes it.
inline std::string jump_chain_file(int jumps) {
  std::string text = "TEXT ·chain(SB),7,$0\n";
  for (const test::ChainItem& item : test::jump_chain(jumps)) {
    switch (item.kind) {
      case test::ChainItem::Mov5: text += "\tMOVL\t$0x12345678, AX\n"; break;
      case test::ChainItem::Nop: text += "\tBYTE\t$0x90\n"; break;
      case test::ChainItem::Jump: text += fmt::format("\tJMP\tc{}\n", item.index); break;
      case test::ChainItem::Label: text += fmt::format("c{}:\n", item.index); break;
    }
  }
  return text + "\tRET\n";
}

}  // namespace w64stub::bench
