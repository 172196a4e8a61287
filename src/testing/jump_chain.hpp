// Jump relaxation's worst case, for relax_test (against GNU as) and the benchmark's input (w64stub_bench
// --write-jump-chain): N jumps, each reaching past the next and growing only once that one has grown. Jump
// k stands at byte 80k and its label at 80k + 129 while all jumps are short (its span holds jump k + 1 and
// no other); the last label one byte further, out of reach. The bytes between are 5-byte moves and nops.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace w64stub::test {

struct ChainItem {
  enum Kind { Mov5, Nop, Jump, Label } kind;
  int index = 0;  // Jump and Label: which jump
};

inline std::vector<ChainItem> jump_chain(int jumps) {
  std::vector<std::pair<int, int>> events;  // (byte, k): jump k when k >= 0, the label of jump -k - 1
  for (int k = 0; k < jumps; ++k) {
    events.push_back({80 * k, k});
    events.push_back({80 * k + 129 + (k == jumps - 1), -k - 1});
  }
  std::sort(events.begin(), events.end());
  std::vector<ChainItem> out;
  int at = 0;
  for (auto [byte, k] : events) {
    for (; byte - at >= 5; at += 5) out.push_back({ChainItem::Mov5});
    for (; byte > at; ++at) out.push_back({ChainItem::Nop});
    if (k >= 0) out.push_back({ChainItem::Jump, k}), at += 2;
    else out.push_back({ChainItem::Label, -k - 1});
  }
  return out;
}

}  // namespace w64stub::test
