// The directives of a Plan 9 file: TEXT, GLOBL, DATA and #pragma dynimport, and the imports and data each
// TEXT symbol's Program gets.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include "assembler_p.hpp"
#include "w64stub/core/small_vector.hpp"

namespace w64stub::plan9 {

Status Assembler::pragma(const Statement& s) {
  const auto& t = s.tokens;
  if (t.empty() || t[0].kind != TokenKind::Ident || t[0].text != "dynimport")
    return at(s.loc, fmt::format("unknown #pragma {} (expected dynimport)", t.empty() ? "" : t[0].text));
  if (t.size() != 4 || t[1].kind != TokenKind::Ident || t[2].kind != TokenKind::Ident || t[3].kind != TokenKind::String)
    return at(s.loc, "expected #pragma dynimport SYMBOL FUNCTION \"DLL\"");
  if (import_at_.count(t[1].text)) return at(t[1].loc, fmt::format("{} is already imported", t[1].text));
  import_at_.emplace(t[1].text, imports_.size());
  imports_.push_back({std::string(t[1].text), std::string(t[3].text), std::string(t[2].text)});
  return Ok{};
}

Status Assembler::text(const Statement& s) {
  const auto& t = s.tokens;
  plan9::split_operands(t, 1, t.size(), ranges_);
  const plan9::Ranges& ops = ranges_;
  if (ops.size() < 2 || ops.size() > 3) return at(s.loc, "expected TEXT sym(SB), [flags,] $frame[-argsize]");
  auto sym = plan9::parse_arg(t, ops[0].first, ops[0].second);
  if (!sym) return sym.error();
  if (sym->kind != Arg::Symbol || sym->value != 0) return at(sym->loc, "expected the TEXT symbol as name(SB)");
  // Without NOSPLIT, Go's linker (6l in 2012) puts a stack-split check before the body; w64stub does not
  // emulate it, and code without it would be silently wrong.
  int64_t flags = 0;
  if (ops.size() == 3) {
    auto value = plan9::evaluate(t, ops[1].first, ops[1].second, &text_flags());
    if (!value) return value.error();
    flags = *value;
  }
  // $frame or $frame-argsize: two numbers, not a subtraction. $-8 is 6l's frameless function (no SUBQ, no
  // stack check): a frame of 0 here, as Go's assemblers treat it.
  auto [fb, fe] = ops.back();
  const bool frameless = fe >= fb + 3 && is(t[fb], "$") && is(t[fb + 1], "-") && t[fb + 2].kind == TokenKind::Number &&
                         t[fb + 2].value == 8;
  const size_t n = frameless ? fb + 2 : fb + 1;  // the frame's number
  const bool shape = fe > n && is(t[fb], "$") && t[n].kind == TokenKind::Number &&
                     (fe == n + 1 || (fe == n + 3 && is(t[n + 1], "-") && t[n + 2].kind == TokenKind::Number));
  if (!shape) return at(t[fb < t.size() ? fb : 0].loc, fmt::format("expected $frame or $frame-argsize, got '{}'", plan9::spell(t, fb, fe)));
  if (t[n].value > 0x7fffffff) return at(t[n].loc, "frame size too large");
  if (!(flags & text_flags().at("NOSPLIT")))
    return at(s.loc, fmt::format("TEXT {} is not NOSPLIT: Go's linker would add a stack-split prologue, which w64stub "
                                 "does not (mark it NOSPLIT, or 7 as 2012's files did)", sym->name));
  if (auto [it, fresh] = text_symbols_.emplace(sym->name, s.loc); !fresh)
    return at(s.loc, fmt::format("TEXT {} is already defined at {}", sym->name, it->second.str()));
  symbols_.emplace_back(sym->name);
  body_.emplace();
  body_->program.symbol = sym->name;
  body_->program.loc = s.loc;
  body_->program.declared_frame = frameless ? 0 : static_cast<int32_t>(t[n].value);
  body_->program.source_file = path_;
  return Ok{};
}

Status Assembler::globl(const Statement& s) {
  const auto& t = s.tokens;
  plan9::split_operands(t, 1, t.size(), ranges_);
  const plan9::Ranges& ops = ranges_;
  if (ops.size() < 2 || ops.size() > 3) return at(s.loc, "expected GLOBL sym(SB), [flags,] $size");
  auto sym = plan9::parse_arg(t, ops[0].first, ops[0].second);
  if (!sym) return sym.error();
  if (sym->kind != Arg::Symbol || sym->value != 0) return at(sym->loc, "expected the symbol as name(SB)");
  auto size = plan9::parse_arg(t, ops.back().first, ops.back().second);
  if (!size) return size.error();
  if (size->kind != Arg::Immediate || size->value <= 0 || size->value > (1 << 20))
    return at(size->loc, "expected the size as $N, from 1 to 1048576");
  if (auto g = global_at_.find(sym->name); g != global_at_.end())
    return at(s.loc, fmt::format("GLOBL {} is already declared at {}", sym->name, globals_[g->second].loc.str()));
  global_at_.emplace(sym->name, globals_.size());
  globals_.push_back({sym->name, s.loc, std::vector<uint8_t>(static_cast<size_t>(size->value), 0)});
  return Ok{};
}

Status Assembler::data(const Statement& s) {
  const auto& t = s.tokens;
  plan9::split_operands(t, 1, t.size(), ranges_);
  const plan9::Ranges& ops = ranges_;
  if (ops.size() != 2) return at(s.loc, "expected DATA sym+off(SB)/width, $value");
  auto [b, e] = ops[0];
  size_t slash = b;
  while (slash < e && !is(t[slash], "/")) ++slash;
  if (slash + 2 != e || t[slash + 1].kind != TokenKind::Number)
    return at(t[std::min(slash, e - 1)].loc, "expected /width (1, 2, 4 or 8) after sym+off(SB)");
  auto sym = plan9::parse_arg(t, b, slash);
  if (!sym) return sym.error();
  if (sym->kind != Arg::Symbol || sym->value < 0) return at(sym->loc, "expected sym+off(SB) with off >= 0");
  const uint64_t width = t[slash + 1].value;
  auto value = plan9::parse_arg(t, ops[1].first, ops[1].second);
  if (!value) return value.error();
  const bool text = value->kind == Arg::String;
  if (text ? width < 1 || width > 8 : width != 1 && width != 2 && width != 4 && width != 8)
    return at(t[slash + 1].loc, text ? "a string DATA is 1 to 8 bytes wide" : "width must be 1, 2, 4 or 8");
  DataWrite write{sym->name, s.tokens[0].loc, sym->value, {}, static_cast<uint32_t>(width)};
  uint8_t* const bytes = write.bytes;
  if (text) {
    if (value->name.size() > width) return at(value->loc, fmt::format("string of {} bytes in a {}-byte DATA", value->name.size(), width));
    std::copy(value->name.begin(), value->name.end(), bytes);
  } else if (value->kind == Arg::Immediate) {
    const auto v = static_cast<uint64_t>(value->value);
    if (width < 8 && (v >> (8 * width)) != 0 && (static_cast<int64_t>(v) >> (8 * width - 1)) != -1)
      return at(value->loc, fmt::format("{} does not fit in {} byte(s)", value->value, width));
    std::memcpy(bytes, &v, width);  // little-endian
  } else {
    return at(value->loc, "DATA takes $constant or $\"string\" (addresses in data are not supported)");
  }
  writes_.push_back(write);
  return Ok{};
}

Status Assembler::attach_symbols(Program& p, bool last) {
  // The working sets of a stub fit in place: a stub names a few symbols.
  SmallVector<std::string_view, 16> named;  // each symbol the code names, once, in name order
  for (const Instr& i : p.instrs)
    for (const Operand& op : i.operands) {
      if (auto* m = std::get_if<SymbolMem>(&op)) named.push_back(m->symbol);
      if (auto* a = std::get_if<SymbolAddr>(&op)) named.push_back(a->symbol);
    }
  std::sort(named.begin(), named.end());
  for (const auto* unique_end = std::unique(named.begin(), named.end()); named.end() != unique_end;) named.pop_back();
  // Looked up by name (a file of many symbols costs no more per symbol), kept in declaration order.
  SmallVector<size_t, 8> imports, globals;
  size_t floats = 0;
  for (const std::string_view symbol : named) {
    if (auto i = import_at_.find(symbol); i != import_at_.end()) imports.push_back(i->second);
    else if (floats_.count(symbol)) ++floats;
    else if (auto g = global_at_.find(symbol); g != global_at_.end()) globals.push_back(g->second);
    else p.externals.emplace_back(symbol);  // another TEXT symbol, or defined elsewhere: left to the linker, as Go's
  }
  p.imports.reserve(imports.size());
  p.data.reserve(floats + globals.size());
  for (const std::string_view symbol : named)
    if (auto f = floats_.find(symbol); f != floats_.end()) {
      const auto align = static_cast<uint32_t>(f->second.size());
      p.data.push_back({std::string(symbol), last ? std::move(f->second) : f->second, align});
    }
  std::sort(imports.begin(), imports.end());
  std::sort(globals.begin(), globals.end());
  for (size_t k : imports) p.imports.push_back(last ? std::move(imports_[k]) : imports_[k]);
  for (size_t k : globals) {
    GlobalData& g = globals_[k];
    const size_t n = g.bytes.size();
    const uint32_t align = n == 1 || n == 2 || n == 4 || n == 8 ? static_cast<uint32_t>(n) : 1;
    p.data.push_back({std::string(g.symbol), last ? std::move(g.bytes) : g.bytes, align});
  }
  return Ok{};
}

void Assembler::refuse(Plan9File& file, std::string symbol, Error error) {
  if (file.errors.size() == kMaxPlan9Errors) file.stopped = true;
  else file.errors.push_back({std::move(symbol), std::move(error)});
}

namespace {

// Whether two of the writes (each inside its GLOBL) meet: sorted by place, only neighbours can.
using PlacedWrites = SmallVector<std::pair<GlobalData*, const DataWrite*>, 16>;  // a stub's fit in place

bool any_overlap(const PlacedWrites& writes) {
  PlacedWrites by_place = writes;
  std::sort(by_place.begin(), by_place.end(), [](const auto& a, const auto& b) {
    return std::pair{a.first, a.second->offset} < std::pair{b.first, b.second->offset};
  });
  for (size_t k = 1; k < by_place.size(); ++k)
    if (by_place[k].first == by_place[k - 1].first &&
        by_place[k].second->offset < by_place[k - 1].second->offset + static_cast<int64_t>(by_place[k - 1].second->width))
      return true;
  return false;
}

}  // namespace

// DATA into its GLOBL, once the whole file is read (DATA may come first).
void Assembler::finish_data(Plan9File& file) {
  PlacedWrites inside;  // the writes that lie in their GLOBL, in file order
  inside.reserve(writes_.size());
  for (const DataWrite& w : writes_) {
    auto at_name = global_at_.find(w.symbol);
    if (at_name == global_at_.end()) {
      refuse(file, "", at(w.loc, fmt::format("DATA for {}, which has no GLOBL", w.symbol)));
      continue;
    }
    GlobalData* g = &globals_[at_name->second];
    if (static_cast<size_t>(w.offset) + w.width > g->bytes.size()) {
      refuse(file, "", at(w.loc, fmt::format("DATA {}+{} of {} bytes lies outside its {}-byte GLOBL", w.symbol, w.offset,
                                             w.width, g->bytes.size())));
      continue;
    }
    inside.emplace_back(g, &w);
  }
  // Most files' DATA do not overlap, which their neighbours in place order tell; else each is checked in file
  // order against the ones taken before it, and refused if it meets one.
  if (!any_overlap(inside)) {
    for (auto [g, w] : inside) std::copy(w->bytes, w->bytes + w->width, g->bytes.begin() + w->offset);
    return;
  }
  std::map<std::pair<GlobalData*, size_t>, size_t> taken;  // (GLOBL, begin) -> end
  for (auto [g, w] : inside) {
    const auto begin = static_cast<size_t>(w->offset), end = begin + w->width;
    // The ranges taken so far do not overlap: only the last one starting at or before `begin` and the first
    // one after it can meet this one.
    const auto next = taken.upper_bound({g, begin});  // the first range starting after begin
    const bool overlaps = (next != taken.end() && next->first.first == g && next->first.second < end) ||
                          (next != taken.begin() && std::prev(next)->first.first == g && std::prev(next)->second > begin);
    if (overlaps) {
      refuse(file, "", at(w->loc, fmt::format("DATA {}+{} overlaps an earlier DATA", w->symbol, w->offset)));
      continue;
    }
    taken.emplace(std::pair{g, begin}, end);
    std::copy(w->bytes, w->bytes + w->width, g->bytes.begin() + w->offset);
  }
}

}  // namespace w64stub::plan9
