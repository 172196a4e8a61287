#include "w64stub/program.hpp"

#include <fmt/format.h>

namespace w64stub {

std::string_view Program::source_line(int line) const {
  if (line < 1 || static_cast<size_t>(line) > source_lines.size()) return {};
  return source_lines[static_cast<size_t>(line) - 1];
}

const Import* Program::find_import(std::string_view name) const {
  for (const Import& i : imports)
    if (i.symbol == name) return &i;
  return nullptr;
}

const DataSymbol* Program::find_data(std::string_view name) const {
  for (const DataSymbol& d : data)
    if (d.symbol == name) return &d;
  return nullptr;
}

Status Program::check_symbols() const {
  for (const Instr& instr : instrs) {
    for (const Operand& op : instr.operands) {
      const std::string* name = nullptr;
      if (auto* m = std::get_if<SymbolMem>(&op)) name = &m->symbol;
      if (auto* a = std::get_if<SymbolAddr>(&op)) name = &a->symbol;
      if (name && !find_import(*name) && !find_data(*name))
        return Error::at(instr.loc, fmt::format("symbol {} is neither an import nor data of {}", *name, symbol));
    }
  }
  return Ok{};
}

std::string short_symbol_name(std::string_view symbol) {
  for (std::string_view prefix : {"runtime·", "runtime."})
    if (symbol.starts_with(prefix)) return std::string(symbol.substr(prefix.size()));
  return std::string(symbol);
}

}  // namespace w64stub
