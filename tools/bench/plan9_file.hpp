// The generated Plan 9 file the whole-file benchmarks assemble: N TEXT symbols of eight lines each (a $40
// frame, a loop, a compare with a data symbol, a call to the next). `w64stub_bench --write-plan9 N FILE`
// writes it for callgrind runs of the CLI.
#pragma once

#include <fmt/format.h>

#include <string>

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

}  // namespace w64stub::bench
