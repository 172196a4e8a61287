#include "w64stub/core/stack_check.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace w64stub {

namespace {

constexpr int64_t kReturnAddress = 8;

struct Callee {
  std::string symbol;
  bool pushes;  // CALL pushes a return address; a tail JMP does not
};

class Checker {
 public:
  explicit Checker(std::span<const Program> programs) {  // the direct CALLs and tail JMPs of each
    for (const Program& p : programs) {
      by_name_[p.symbol] = &p;
      for (const Instr& i : p.instrs) {
        const bool call = i.id == asmjit::x86::Inst::kIdCall, jump = i.id == asmjit::x86::Inst::kIdJmp;
        if ((call || jump) && i.operands.size() == 1)
          if (auto* target = std::get_if<SymbolAddr>(&i.operands[0])) callees_[p.symbol].push_back({target->symbol, call});
      }
    }
  }

  // The deepest chain from `symbol` on, its own frame included and the call into it not; memoized, so a
  // file costs time linear in its calls.
  const NosplitChain& deepest(const std::string& symbol) {
    if (auto done = memo_.find(symbol); done != memo_.end()) return done->second;
    auto it = by_name_.find(symbol);
    if (it == by_name_.end()) return memo_[symbol] = NosplitChain{{symbol}, 0, false, true};  // an external: no frame here
    NosplitChain best{{symbol}, it->second->declared_frame, false, false};
    if (!on_path_.insert(symbol).second) return memo_[symbol] = best;  // a cycle: once round
    if (auto calls = callees_.find(symbol); calls != callees_.end())
      for (const Callee& c : calls->second) {
        const NosplitChain& next = deepest(c.symbol);
        const int64_t bytes = it->second->declared_frame + (c.pushes ? kReturnAddress : 0) + next.bytes;
        if (bytes <= best.bytes) continue;
        best = NosplitChain{{symbol}, bytes, false, next.leaves_file};
        best.symbols.insert(best.symbols.end(), next.symbols.begin(), next.symbols.end());
      }
    on_path_.erase(symbol);
    return memo_[symbol] = best;
  }

 private:
  std::map<std::string, const Program*> by_name_;
  std::map<std::string, std::vector<Callee>> callees_;
  std::map<std::string, NosplitChain> memo_;
  std::set<std::string> on_path_;
};

}  // namespace

std::vector<NosplitChain> nosplit_chains(std::span<const Program> programs, int64_t limit) {
  Checker checker(programs);
  std::vector<NosplitChain> out;
  for (const Program& p : programs) {
    NosplitChain chain = checker.deepest(p.symbol);
    chain.bytes += kReturnAddress;  // the call into the root
    chain.over = chain.bytes > limit;
    out.push_back(std::move(chain));
  }
  return out;
}

}  // namespace w64stub
