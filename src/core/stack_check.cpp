#include "w64stub/core/stack_check.hpp"

#include <algorithm>
#include <map>

namespace w64stub {

namespace {

constexpr int64_t kReturnAddress = 8;
constexpr size_t kNone = SIZE_MAX;

// A chain from a symbol on, as a list cell that is never changed once made: later cells point to earlier
// ones, so a chain is shared, not copied, by every chain that ends with it.
struct Cell {
  std::string_view symbol;
  int64_t bytes;       // its own frame and the rest of the chain, the call into it not counted
  size_t next;         // the rest: a Cell, or kNone
  size_t length;       // symbols from here to the end
  std::string_view last;
  bool leaves_file;
};

struct Callee {
  std::string_view symbol;
  bool pushes;  // CALL pushes a return address; a tail JMP does not
};

// The deepest chain from each symbol, as the recursive definition gives it (a symbol met again on the
// current path ends the chain there, with its own frame: a cycle counts once round), computed with an
// explicit stack so that a chain of any length does not exhaust the thread's.
class Checker {
 public:
  explicit Checker(std::span<const Program> programs) : programs_(programs) {
    for (size_t k = 0; k < programs.size(); ++k) by_name_.emplace(programs[k].symbol, k);  // the first of a name
    callees_.resize(programs.size());
    for (size_t k = 0; k < programs.size(); ++k)
      for (const Instr& i : programs[k].instrs) {
        const bool call = i.id == asmjit::x86::Inst::kIdCall, jump = i.id == asmjit::x86::Inst::kIdJmp;
        if ((call || jump) && i.operands.size() == 1)
          if (auto* target = std::get_if<SymbolAddr>(&i.operands[0])) callees_[k].push_back({target->symbol, call});
      }
  }

  const Cell& cell(size_t at) const { return cells_[at]; }

  size_t deepest(std::string_view symbol) {
    if (auto done = memo_.find(symbol); done != memo_.end()) return done->second;
    auto it = by_name_.find(symbol);
    if (it == by_name_.end()) return memo_[symbol] = add({symbol, 0, kNone, 1, symbol, true});  // an external
    struct Frame {
      size_t program, callee = 0, best;
    };
    std::vector<Frame> stack{{it->second, 0, own(it->second)}};
    on_path_[symbol] = true;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const std::vector<Callee>& callees = callees_[f.program];
      if (f.callee == callees.size()) {  // done: its best is final
        const std::string_view done = programs_[f.program].symbol;
        on_path_[done] = false;
        const size_t best = memo_[done] = f.best;
        stack.pop_back();
        if (!stack.empty()) take(stack.back(), best);
        continue;
      }
      const std::string_view next = callees[f.callee].symbol;
      if (auto m = memo_.find(next); m != memo_.end()) {
        take(f, m->second);
      } else if (auto p = by_name_.find(next); p == by_name_.end()) {
        take(f, memo_[next] = add({next, 0, kNone, 1, next, true}));
      } else if (on_path_[next]) {
        take(f, memo_[next] = own(p->second));  // met again on this path: its own frame, and no further
      } else {
        on_path_[next] = true;
        stack.push_back({p->second, 0, own(p->second)});
      }
    }
    return memo_[symbol];
  }

 private:
  template <typename F>
  void take(F& f, size_t rest_at) {  // callee f.callee's chain is rest: keep it if it is deeper
    const Callee& c = callees_[f.program][f.callee++];
    const Cell& rest = cells_[rest_at];
    const Program& p = programs_[f.program];
    const int64_t bytes = p.declared_frame + (c.pushes ? kReturnAddress : 0) + rest.bytes;
    if (bytes <= cells_[f.best].bytes) return;
    f.best = add({p.symbol, bytes, rest_at, rest.length + 1, rest.last, rest.leaves_file});
  }
  size_t own(size_t program) {
    const Program& p = programs_[program];
    return add({p.symbol, p.declared_frame, kNone, 1, p.symbol, false});
  }
  size_t add(const Cell& c) {
    cells_.push_back(c);
    return cells_.size() - 1;
  }

  std::span<const Program> programs_;
  std::map<std::string_view, size_t> by_name_;
  std::vector<std::vector<Callee>> callees_;
  std::vector<Cell> cells_;
  std::map<std::string_view, size_t> memo_;  // symbol -> its Cell (while on the path: the one a revisit made)
  std::map<std::string_view, bool> on_path_;
};

}  // namespace

std::vector<NosplitChain> nosplit_chains(std::span<const Program> programs, int64_t limit) {
  Checker checker(programs);
  std::vector<NosplitChain> out;
  for (const Program& p : programs) {
    const Cell& head = checker.cell(checker.deepest(p.symbol));
    NosplitChain chain;
    chain.length = head.length;
    chain.bytes = head.bytes + kReturnAddress;  // the call into the root
    chain.over = chain.bytes > limit;
    chain.leaves_file = head.leaves_file;
    for (size_t at = checker.deepest(p.symbol); at != kNone && chain.symbols.size() + 1 < NosplitChain::kShown;
         at = checker.cell(at).next)
      chain.symbols.emplace_back(checker.cell(at).symbol);
    if (chain.symbols.size() < chain.length) chain.symbols.emplace_back(head.last);
    out.push_back(std::move(chain));
  }
  return out;
}

}  // namespace w64stub
