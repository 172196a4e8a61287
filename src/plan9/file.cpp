// A whole Plan 9 file's outcome: its errors as an assembler prints them, and one TEXT symbol chosen from it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "w64stub/plan9/asm.hpp"

namespace w64stub {

std::string Plan9File::report() const {
  if (errors.empty()) return "";
  std::string out;
  for (const Plan9Refusal& r : errors) {
    const SourceLoc& loc = r.error.loc;
    if (loc.file.empty()) {
      out += fmt::format("{}: error: {}\n", path, r.error.message);
      continue;
    }
    out += fmt::format("{}: error: {}\n", loc.str(), r.error.what());
    if (loc.file == path && loc.line >= 1 && static_cast<size_t>(loc.line) <= lines.size()) {
      const std::string_view line = lines[static_cast<size_t>(loc.line) - 1];
      std::string caret;  // under the column, keeping the line's tabs so it lines up
      for (int i = 0; i + 1 < loc.column && static_cast<size_t>(i) < line.size(); ++i) caret += line[static_cast<size_t>(i)] == '\t' ? '\t' : ' ';
      out += fmt::format("{}\n{}^\n", line, caret);
    }
  }
  if (stopped) out += fmt::format("{}: too many errors\n", path);
  return out + fmt::format("assembly of {} failed", path);
}

Expected<std::string> choose_symbol_name(std::span<const Program> programs, const std::string& path, std::string_view symbol) {
  if (symbol.empty()) {
    if (programs.size() == 1) return programs.front().symbol;
    constexpr size_t kNamed = 20;  // a file of thousands is not listed whole
    std::vector<std::string> names;
    for (size_t k = 0; k < programs.size() && k < kNamed; ++k) names.push_back(programs[k].symbol);
    if (programs.size() > kNamed) names.push_back(fmt::format("and {} more", programs.size() - kNamed));
    return Error{fmt::format("{} has {} TEXT symbols; choose one with --symbol ({})", path, programs.size(), fmt::join(names, ", "))};
  }
  // The full name; else the name after its package ("f" for "·f" or "runtime·f"), when only one has it.
  std::vector<std::string> matches;
  for (const Program& p : programs) {
    if (p.symbol == symbol) return p.symbol;
    if (bare_symbol_name(p.symbol) == bare_symbol_name(symbol)) matches.push_back(p.symbol);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) return Error{fmt::format("{}: no TEXT symbol {}", path, symbol)};
  return Error{fmt::format("{}: {} names {} TEXT symbols ({}); give its package", path, symbol, matches.size(),
                           fmt::join(matches, ", "))};
}

Expected<Program> choose_symbol(std::vector<Program> programs, const std::string& path, std::string_view symbol) {
  auto name = choose_symbol_name(programs, path, symbol);
  if (!name) return name.error();
  for (Program& p : programs)
    if (p.symbol == *name) return std::move(p);
  return Error{"unreachable"};
}

}  // namespace w64stub
