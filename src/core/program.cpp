#include "w64stub/core/program.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <unordered_map>

namespace w64stub {

std::string_view Program::source_line(int line) const {
  line -= first_line - 1;
  if (line < 1 || static_cast<size_t>(line) > source_lines.size()) return {};
  return source_lines[static_cast<size_t>(line) - 1];
}

std::string_view Program::source_text(const SourceLoc& at) const {
  if (!source_file.empty() && at.file != source_file) return {};
  return source_line(at.line);
}

const Import* Program::find_import(std::string_view name) const {
  for (const Import& i : imports)
    if (i.symbol == name) return &i;
  return nullptr;
}

bool Program::is_external(std::string_view name) const {
  return std::find(externals.begin(), externals.end(), name) != externals.end();
}

bool Program::is_function(std::string_view name) const {
  return std::any_of(functions.begin(), functions.end(), [&](const Function& f) { return f.symbol == name; });
}

const DataSymbol* Program::find_data(std::string_view name) const {
  for (const DataSymbol& d : data)
    if (d.symbol == name) return &d;
  return nullptr;
}

Instr Instr::bind(std::string label, SourceLoc loc) {
  return Instr{asmjit::x86::Inst::kIdNone, {CodeLabel{std::move(label)}}, std::move(loc)};
}

const CodeLabel* Instr::bound_label() const {
  if (id != asmjit::x86::Inst::kIdNone || operands.size() != 1) return nullptr;
  return std::get_if<CodeLabel>(&operands[0]);
}

Status Program::check_symbols() const {
  // By the names the Program holds, hashed: a linked Program of many functions has thousands of each.
  std::unordered_map<std::string_view, const Instr*> bound;  // allocates nothing for a stub without labels
  if (!functions.empty()) bound.reserve(2 * functions.size());
  for (const Function& f : functions) bound.emplace(f.symbol, nullptr);
  for (const Instr& instr : instrs) {
    if (const CodeLabel* label = instr.bound_label()) {
      auto [it, fresh] = bound.emplace(label->name, &instr);
      if (!fresh)
        return Error::at(instr.loc, fmt::format("label {} is already defined {}", label->name,
                                                it->second ? "at " + it->second->loc.str() : std::string("as a function")));
    }
  }
  // Sorted once, searched by name: in place for a stub, n log n for a linked file.
  SmallVector<std::string_view, 16> known;
  known.reserve(imports.size() + data.size() + externals.size() + functions.size());
  for (const Import& i : imports) known.push_back(i.symbol);
  for (const DataSymbol& d : data) known.push_back(d.symbol);
  for (const std::string& e : externals) known.push_back(e);
  for (const Function& f : functions) known.push_back(f.symbol);
  std::sort(known.begin(), known.end());
  if (auto twice = std::adjacent_find(known.begin(), known.end()); twice != known.end())
    return Error::at(loc, fmt::format("{} is declared twice (as an import, data, external or function) in {}", *twice, symbol));
  for (const Instr& instr : instrs) {
    if (instr.bound_label()) continue;
    for (const Operand& op : instr.operands) {
      const std::string* name = nullptr;
      if (auto* m = std::get_if<SymbolMem>(&op)) name = &m->symbol;
      if (auto* a = std::get_if<SymbolAddr>(&op)) name = &a->symbol;
      if (name && !std::binary_search(known.begin(), known.end(), std::string_view(*name)))
        return Error::at(instr.loc, fmt::format("symbol {} is neither an import, data nor an external of {}", *name, symbol));
      if (auto* l = std::get_if<CodeLabel>(&op); l && !bound.count(l->name))
        return Error::at(instr.loc, fmt::format("label {} is never defined in {}", l->name, symbol));
    }
  }
  return Ok{};
}

Status append_builder(Program& program, const asmjit::BaseBuilder& builder, const SourceLoc& loc) {
  auto label_name = [](uint32_t id) { return fmt::format("L{}", id); };
  for (const asmjit::BaseNode* node = builder.firstNode(); node; node = node->next()) {
    if (node->isLabel()) {
      program.instrs.push_back(Instr::bind(label_name(node->as<asmjit::LabelNode>()->labelId()), loc));
    } else if (node->isInst()) {
      const auto* inst = node->as<asmjit::InstNode>();
      Instr instr{inst->id(), {}, loc};
      for (uint32_t i = 0; i < inst->opCount(); ++i) {
        const asmjit::Operand& op = inst->op(i);
        if (op.isLabel()) instr.operands.emplace_back(CodeLabel{label_name(op.id())});
        else instr.operands.emplace_back(op);
      }
      program.instrs.push_back(std::move(instr));
    } else if (!node->isSection() && node->type() != asmjit::NodeType::kComment) {
      return Error::at(loc, fmt::format("asmjit builder node of type {} has no Program equivalent",
                                        static_cast<int>(node->type())));
    }
  }
  return Ok{};
}

std::string_view bare_symbol_name(std::string_view symbol) {
  constexpr std::string_view kMiddleDot = "·";
  const size_t dot = symbol.rfind('.'), middle = symbol.rfind(kMiddleDot);
  size_t start = dot == std::string_view::npos ? 0 : dot + 1;
  if (middle != std::string_view::npos) start = std::max(start, middle + kMiddleDot.size());
  return symbol.substr(start);
}

std::string short_symbol_name(std::string_view symbol) {
  for (std::string_view prefix : {"runtime·", "runtime."})
    if (symbol.starts_with(prefix)) return std::string(symbol.substr(prefix.size()));
  return std::string(symbol);
}

}  // namespace w64stub
