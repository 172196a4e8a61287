#include "relax_p.hpp"

#include <algorithm>

namespace w64stub {

namespace {

// Positions as prefix sums of the lengths: a length grows and a position is read in log n.
class PrefixSums {
 public:
  explicit PrefixSums(std::span<const uint32_t> lengths) : tree_(lengths.size() + 1) {
    for (size_t i = 1; i <= lengths.size(); ++i) {  // linear build: each node passes its sum to its parent
      tree_[i] += lengths[i - 1];
      if (const size_t parent = i + (i & (~i + 1)); parent < tree_.size()) tree_[parent] += tree_[i];
    }
  }
  void grow(size_t index, int64_t by) {
    for (size_t i = index + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += by;
  }
  // The position of instruction `index`: the lengths before it.
  int64_t at(size_t index) const {
    int64_t sum = 0;
    for (size_t i = index; i > 0; i -= i & (~i + 1)) sum += tree_[i];
    return sum;
  }
  // The first instruction whose position is at least `position` (the number of instructions: none).
  size_t first_at(int64_t position) const {
    if (position <= 0) return 0;
    size_t index = 0, step = 1;  // descends to the last index whose position is below `position`
    while (step * 2 < tree_.size()) step *= 2;
    int64_t below = 0;
    for (; step > 0; step /= 2)
      if (index + step < tree_.size() && below + tree_[index + step] < position) index += step, below += tree_[index];
    return std::min(index + 1, tree_.size() - 1);
  }

 private:
  std::vector<int64_t> tree_;  // 1-based Fenwick tree
};

constexpr int64_t kReach = 131;  // a short jump's span in bytes (127 past its 2 bytes), and a little more

}  // namespace

std::vector<bool> relax_jumps(std::span<const uint32_t> lengths, std::span<const RelaxJump> jumps) {
  PrefixSums pos(lengths);
  std::vector<bool> short_form(jumps.size(), true), queued(jumps.size(), true);
  // The jumps by instruction: those a growth can reach are the short ones standing within kReach of it.
  std::vector<size_t> by_item(jumps.size());
  for (size_t k = 0; k < jumps.size(); ++k) by_item[k] = k;
  std::sort(by_item.begin(), by_item.end(), [&](size_t a, size_t b) { return jumps[a].item < jumps[b].item; });
  std::vector<size_t> work(by_item.rbegin(), by_item.rend());  // popped from the back: in code order
  while (!work.empty()) {
    const size_t k = work.back();
    work.pop_back();
    queued[k] = false;
    const RelaxJump& j = jumps[k];
    const int64_t at = pos.at(j.item), disp = pos.at(j.target) - (at + 2);
    if (!short_form[k] || (disp >= -128 && disp <= 127)) continue;
    short_form[k] = false;
    pos.grow(j.item, static_cast<int64_t>(j.long_length) - 2);
    // Every short jump whose span holds this one stands within kReach of it: check those again.
    const size_t from = pos.first_at(at - kReach), to = pos.first_at(at + kReach + 1);
    auto it = std::lower_bound(by_item.begin(), by_item.end(), from, [&](size_t a, size_t item) { return jumps[a].item < item; });
    for (; it != by_item.end() && jumps[*it].item < to; ++it)
      if (short_form[*it] && !queued[*it]) queued[*it] = true, work.push_back(*it);
  }
  return short_form;
}

}  // namespace w64stub
