#include "w64stub/emit/link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace w64stub {

namespace {

// Names held by the Programs being linked (they outlive the link), hashed: a file has thousands.
using NameSet = std::unordered_set<std::string_view>;

bool is_branch(asmjit::InstId id) {
  namespace x86 = asmjit::x86;
  return id == x86::Inst::kIdCall || id == x86::Inst::kIdJmp || (id >= x86::Inst::kIdJa && id <= x86::Inst::kIdJz);
}

// One function's instructions: its labels prefixed with its name, a direct branch to a function a CodeLabel
// (unless it is a jump that must keep its rel32 form: a branch to the function's symbol, resolved by emit).
void append_function(Program& out, const Program& p, const NameSet& functions, bool relax) {
  out.functions.push_back(Function{p.symbol, out.instrs.size(), p.declared_frame, p.loc});
  for (const Instr& source : p.instrs) {
    Instr& instr = out.instrs.emplace_back(source);  // copied in place (join reserved the room)
    for (Operand& op : instr.operands) {
      if (auto* label = std::get_if<CodeLabel>(&op)) label->name = p.symbol + ":" + label->name;
      auto* addr = std::get_if<SymbolAddr>(&op);
      const bool relaxable = relax || instr.id == asmjit::x86::Inst::kIdCall;  // a CALL is rel32 either way
      if (addr && addr->offset == 0 && is_branch(instr.id) && relaxable && functions.count(addr->symbol))
        op = CodeLabel{addr->symbol};
    }
  }
}

// Imports and data are the file's: every function that names one must mean the same one.
struct Shared {  // the index of each import and data symbol already in the linked Program, by name
  std::unordered_map<std::string_view, size_t> imports, data;
};

Status merge_shared(Program& out, const Program& p, Shared& seen) {
  for (const Import& i : p.imports) {
    auto [at, fresh] = seen.imports.emplace(i.symbol, out.imports.size());
    if (fresh) out.imports.push_back(i);
    else if (const Import& have = out.imports[at->second]; have.dll != i.dll || have.function != i.function || have.signature != i.signature)
      return Error::at(p.loc, fmt::format("import {} differs between {} and {}", i.symbol, out.symbol, p.symbol));
  }
  for (const DataSymbol& d : p.data) {
    auto [at, fresh] = seen.data.emplace(d.symbol, out.data.size());
    if (fresh) out.data.push_back(d);
    else if (const DataSymbol& have = out.data[at->second]; have.bytes != d.bytes || have.align != d.align || have.data_offset != d.data_offset)
      return Error::at(p.loc, fmt::format("data {} differs between {} and {}", d.symbol, out.symbol, p.symbol));
  }
  return Ok{};
}

// The source lines of every function, at their own line numbers. Functions of one file share its lines;
// others are merged into new lines (the gaps between them empty).
void merge_lines(Program& out, const Program& p) {
  if (p.source_lines.empty() || (out.source_lines.same(p.source_lines) && out.first_line == p.first_line)) return;
  if (out.source_lines.empty()) {
    out.source_lines = p.source_lines;
    out.first_line = p.first_line;
    return;
  }
  const int first = std::min(out.first_line, p.first_line);
  const auto size = static_cast<size_t>(std::max(out.first_line + static_cast<int>(out.source_lines.size()),
                                                 p.first_line + static_cast<int>(p.source_lines.size())) - first);
  std::vector<std::string> lines(size);
  for (size_t k = 0; k < out.source_lines.size(); ++k) lines[static_cast<size_t>(out.first_line - first) + k] = out.source_lines[k];
  for (size_t k = 0; k < p.source_lines.size(); ++k) lines[static_cast<size_t>(p.first_line - first) + k] = p.source_lines[k];
  out.source_lines = std::move(lines);
  out.first_line = first;
}

}  // namespace

Linker::Linker(std::span<const Program> programs, LinkOptions options) : programs_(programs), options_(options) {
  for (size_t k = 0; k < programs.size(); ++k) index_.emplace(programs[k].symbol, k);
}

// Which Programs the entry reaches, in the order given; by index. Without follow_calls, only through the
// operands of instructions other than CALL.
std::vector<size_t> Linker::reached(size_t entry) const {
  std::vector<bool> seen(programs_.size());
  std::vector<size_t> work{entry};
  seen[entry] = true;
  auto visit = [&](std::string_view name) {
    if (auto it = index_.find(name); it != index_.end() && !seen[it->second]) seen[it->second] = true, work.push_back(it->second);
  };
  while (!work.empty()) {
    const Program& p = programs_[work.back()];
    work.pop_back();
    if (options_.follow_calls) {
      for (const std::string& e : p.externals) visit(e);
      continue;
    }
    for (const Instr& instr : p.instrs)
      if (instr.id != asmjit::x86::Inst::kIdCall)
        for (const Operand& op : instr.operands) {
          if (auto* a = std::get_if<SymbolAddr>(&op)) visit(a->symbol);
          if (auto* m = std::get_if<SymbolMem>(&op)) visit(m->symbol);
        }
  }
  std::vector<size_t> out{entry};
  for (size_t k = 0; k < programs_.size(); ++k)
    if (seen[k] && k != entry) out.push_back(k);
  return out;
}

namespace {

// The Programs `order` names, the first the entry, as one Program.
Expected<Program> join(std::span<const Program> programs, const std::vector<size_t>& order, const LinkOptions& options) {
  NameSet functions;
  functions.reserve(order.size());
  for (size_t k : order)
    if (!functions.insert(programs[k].symbol).second)
      return Error::at(programs[k].loc, fmt::format("TEXT symbol {} is defined twice", programs[k].symbol));
  const Program& head = programs[order.front()];
  Program out;
  out.symbol = head.symbol;
  out.loc = head.loc;
  out.declared_frame = head.declared_frame;
  out.source_file = head.source_file;
  NameSet externals;  // what out.externals holds, by name
  Shared shared;
  size_t instrs = 0;
  for (size_t k : order) instrs += programs[k].instrs.size();
  out.instrs.reserve(instrs);
  out.functions.reserve(order.size());
  for (size_t k : order) {
    const Program& p = programs[k];
    if (auto s = p.check_symbols(); !s) return s.error();
    if (p.source_file != out.source_file) out.source_file.clear();
    append_function(out, p, functions, options.relax_between_functions);
    if (auto s = merge_shared(out, p, shared); !s) return s.error();
    merge_lines(out, p);
    for (const std::string& e : p.externals)
      if (!functions.count(e) && externals.insert(e).second) out.externals.push_back(e);
  }
  return out;
}

// Every Program, in the order given: no index of names needed.
Expected<Program> join_all(std::span<const Program> programs, const LinkOptions& options) {
  if (programs.empty()) return Error{"nothing to link"};
  std::vector<size_t> order(programs.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  return join(programs, order, options);
}

}  // namespace

Expected<Program> link(std::span<const Program> programs, std::string_view entry, const LinkOptions& options) {
  if (entry.empty()) return join_all(programs, options);
  return Linker(programs, options).link(entry);
}

Expected<Program> Linker::link(std::string_view entry) const {
  if (entry.empty()) return join_all(programs_, options_);
  auto it = index_.find(entry);
  if (it == index_.end()) return Error{fmt::format("no TEXT symbol {} to link", entry)};
  return join(programs_, reached(it->second), options_);
}

}  // namespace w64stub
