// The generated Plan 9 file the whole-file benchmarks assemble: N TEXT symbols of eight lines each (a $40
// frame, a loop, a compare with a data symbol, a call to the next). `w64stub_bench --write-plan9 N FILE`
// writes it for callgrind runs of the CLI.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

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

// Jump relaxation's worst case: N jumps, each reaching past the next and growing only once that one has
// grown (jump k at byte 80k, its label at 80k + 129 while all are short; the last one byte further, out of
// reach). `w64stub_bench --write-jump-chain N FILE` writes it.
inline std::string jump_chain_file(int jumps) {
  std::vector<std::pair<int, int>> events;  // (byte, k): jump k when k >= 0, the label of jump -k - 1
  for (int k = 0; k < jumps; ++k) {
    events.push_back({80 * k, k});
    events.push_back({80 * k + 129 + (k == jumps - 1), -k - 1});
  }
  std::sort(events.begin(), events.end());
  std::string text = "TEXT ·chain(SB),7,$0\n";
  int at = 0;
  for (auto [byte, k] : events) {
    for (; byte - at >= 5; at += 5) text += "\tMOVL\t$0x12345678, AX\n";
    for (; byte > at; ++at) text += "\tBYTE\t$0x90\n";
    if (k >= 0) {
      text += fmt::format("\tJMP\tc{}\n", k);
      at += 2;
    } else {
      text += fmt::format("c{}:\n", -k - 1);
    }
  }
  return text + "\tRET\n";
}

}  // namespace w64stub::bench
