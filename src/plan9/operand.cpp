#include "operand_p.hpp"

#include "arch_p.hpp"

#include <asmjit/x86.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>

namespace w64stub::plan9 {

namespace {

constexpr int kMaxNesting = 64;

// Punctuation is one or two characters: compared in place (this runs for every token of every operand).
bool is(const Token& t, std::string_view punct) {
  return t.kind == TokenKind::Punct && t.text.size() == punct.size() && t.text[0] == punct[0] &&
         (punct.size() == 1 || t.text[1] == punct[1]);
}

class Evaluator {
 public:
  Evaluator(Tokens t, size_t begin, size_t end, const Names* names)
      : t_(t), pos_(begin), end_(end), names_(names) {}

  Expected<int64_t> all() {
    if (pos_ >= end_) return Error::at(at_end(), "expected an expression");
    auto v = sum(0);
    if (!v) return v;
    if (pos_ < end_) return Error::at(t_[pos_].loc, fmt::format("unexpected '{}' in an expression", t_[pos_].text));
    return v;
  }

 private:
  SourceLoc at_end() const { return pos_ < t_.size() ? t_[pos_].loc : t_.empty() ? SourceLoc{} : t_.back().loc; }
  bool next_is(std::string_view p) const { return pos_ < end_ && is(t_[pos_], p); }

  // Go's precedence: + - | ^ below * / % << >> &.
  Expected<int64_t> sum(int depth) {
    auto left = product(depth);
    if (!left) return left;
    uint64_t v = static_cast<uint64_t>(*left);
    while (next_is("+") || next_is("-") || next_is("|") || next_is("^")) {
      const std::string_view op = t_[pos_++].text;
      auto right = product(depth);
      if (!right) return right;
      const auto r = static_cast<uint64_t>(*right);
      v = op == "+" ? v + r : op == "-" ? v - r : op == "|" ? v | r : v ^ r;
    }
    return static_cast<int64_t>(v);
  }

  Expected<int64_t> product(int depth) {
    auto left = unary(depth);
    if (!left) return left;
    int64_t v = *left;
    while (next_is("*") || next_is("/") || next_is("%") || next_is("<<") || next_is(">>") || next_is("&")) {
      const Token& op = t_[pos_++];
      auto right = unary(depth);
      if (!right) return right;
      const int64_t r = *right;
      if ((op.text == "/" || op.text == "%") && r == 0) return Error::at(op.loc, "division by zero");
      if ((op.text == "/" || op.text == "%") && r == -1 && v == INT64_MIN) return Error::at(op.loc, "division overflows");
      if ((op.text == "<<" || op.text == ">>") && (r < 0 || r > 63))
        return Error::at(op.loc, fmt::format("shift count {} is outside 0..63", r));
      if (op.text == "*") v = static_cast<int64_t>(static_cast<uint64_t>(v) * static_cast<uint64_t>(r));
      else if (op.text == "/") v = v / r;
      else if (op.text == "%") v = v % r;
      else if (op.text == "<<") v = static_cast<int64_t>(static_cast<uint64_t>(v) << r);
      else if (op.text == ">>") v = v >> r;
      else v = v & r;
    }
    return v;
  }

  Expected<int64_t> unary(int depth) {
    if (depth > kMaxNesting) return Error::at(at_end(), "expression nests too deeply");
    if (next_is("-") || next_is("+") || next_is("~") || next_is("^")) {
      const std::string_view op = t_[pos_++].text;
      auto v = unary(depth + 1);
      if (!v) return v;
      const auto u = static_cast<uint64_t>(*v);
      return static_cast<int64_t>(op == "-" ? uint64_t{0} - u : op == "+" ? u : ~u);
    }
    return primary(depth);
  }

  Expected<int64_t> primary(int depth) {
    if (pos_ >= end_) return Error::at(at_end(), "expected a number");
    const Token& t = t_[pos_++];
    if (t.kind == TokenKind::Number && t.floating)
      return Error::at(t.loc, fmt::format("{} is a floating constant, not an integer", t.text));
    if (t.kind == TokenKind::Number) return static_cast<int64_t>(t.value);
    if (is(t, "(")) {
      auto v = sum(depth + 1);
      if (!v) return v;
      if (!next_is(")")) return Error::at(at_end(), "expected ) to close the expression");
      ++pos_;
      return v;
    }
    if (t.kind == TokenKind::Ident && names_) {
      auto it = names_->find(t.text);
      if (it != names_->end()) return it->second;
    }
    if (t.kind == TokenKind::Ident) return Error::at(t.loc, fmt::format("undefined: {} (not a macro or constant)", t.text));
    return Error::at(t.loc, fmt::format("expected a number, got '{}'", t.kind == TokenKind::String ? fmt::format("\"{}\"", t.text) : std::string(t.text)));
  }

  Tokens t_;
  size_t pos_, end_;
  const Names* names_;
};

// The first top-level ( that opens a register group in tokens [b, e), and the register after it: what
// precedes it is a symbol or an offset. e when there is none.
size_t register_group(Tokens t, size_t b, size_t e, Reg& first) {
  for (size_t i = b, nesting = 0; i < e; ++i) {
    if (is(t[i], "(") && nesting == 0 && i + 1 < e && t[i + 1].kind == TokenKind::Ident)
      if (auto r = find_register(t[i + 1].text)) return first = *r, i;
    if (is(t[i], "(")) ++nesting;
    if (is(t[i], ")") && nesting > 0) --nesting;
  }
  return e;
}

// The (INDEX*SCALE) group that starts at token i.
Status parse_index(Tokens t, size_t i, size_t e, Arg& a) {
  auto fail = [&](const SourceLoc& at, std::string what) { return Error::at(at, fmt::format("{} in '{}'", what, a.text())); };
  if (a.kind != Arg::Memory && a.kind != Arg::Symbol) return fail(t[i].loc, "an index register needs a memory operand");
  if (a.kind == Arg::Symbol) return fail(t[i].loc, "sym(SB) cannot take an index register here");
  auto index = i + 1 < e && t[i + 1].kind == TokenKind::Ident ? find_register(t[i + 1].text) : std::nullopt;
  if (!index || index->cls != Reg::Gp || index->id == asmjit::x86::Gp::kIdSp)
    return fail(t[i + 1 < e ? i + 1 : i].loc, "expected an index register (not SP) in (REG*SCALE)");
  if (i + 4 >= e || !is(t[i + 2], "*") || t[i + 3].kind != TokenKind::Number || !is(t[i + 4], ")"))
    return fail(t[i].loc, "expected (REG*1), (REG*2), (REG*4) or (REG*8)");
  const uint64_t scale = t[i + 3].value;
  if (scale != 1 && scale != 2 && scale != 4 && scale != 8)
    return fail(t[i + 3].loc, fmt::format("scale {} is not 1, 2, 4 or 8", scale));
  a.index = index;
  a.scale = static_cast<int>(scale);
  return Ok{};
}

}  // namespace


Expected<int64_t> evaluate(Tokens tokens, size_t begin, size_t end, const Names* names) {
  // Most operands' expressions are one integer, signed or not ($40, sym+8(SB), -8(SP)): no descent through the
  // grammar.
  const bool sign = end == begin + 2 && end <= tokens.size() && (is(tokens[begin], "+") || is(tokens[begin], "-"));
  if ((end == begin + 1 || sign) && end <= tokens.size() && tokens[end - 1].kind == TokenKind::Number &&
      !tokens[end - 1].floating) {
    const uint64_t v = tokens[end - 1].value;
    return static_cast<int64_t>(sign && tokens[begin].text[0] == '-' ? uint64_t{0} - v : v);
  }
  return Evaluator(tokens, begin, end, names).all();
}

void split_operands(Tokens t, size_t begin, size_t end, Ranges& out) {
  out.clear();
  int nesting = 0;
  size_t start = begin;
  // By pointer, the index made only at a comma: with (start, i) both live, GCC kept them as one vector
  // register pair and shuffled it every token.
  const Token* const first = t.data();
  for (const Token* p = first + std::min(begin, end); p < first + end; ++p) {
    if (p->kind != TokenKind::Punct || p->text.size() != 1) continue;
    const char c = p->text[0];
    if (c == '(') ++nesting;
    else if (c == ')') --nesting;
    else if (c == ',' && nesting == 0) {
      const auto i = static_cast<size_t>(p - first);
      out.emplace_back(start, i);
      start = i + 1;
    }
  }
  if (start < end || !out.empty()) out.emplace_back(start, end);
  if (out.size() > 1 && out.back().first == out.back().second) out.pop_back();
}

std::string immediate_fits(int64_t value, uint32_t size) {
  const int64_t low = size == 1 ? INT8_MIN : size == 2 ? INT16_MIN : INT32_MIN;
  const int64_t high = size == 1 ? UINT8_MAX : size == 2 ? UINT16_MAX : size == 4 ? UINT32_MAX : INT32_MAX;
  if (size == 0 || (value >= low && value <= high)) return "";
  if (size == 8) return fmt::format("${:#x} does not fit the sign-extended 32-bit immediate of a Q instruction (only MOVQ takes 64 bits)", value);
  return fmt::format("${:#x} does not fit the {}-bit immediate of this instruction", value, 8 * size);
}

std::pair<std::string, std::vector<uint8_t>> floating_constant_data(double value, uint32_t width) {
  std::vector<uint8_t> bytes(width == 4 ? 4 : 8);
  if (width == 4) {
    const auto bits = std::bit_cast<uint32_t>(static_cast<float>(value));
    std::memcpy(bytes.data(), &bits, 4);
    return {fmt::format("$f32.{:08x}", bits), bytes};
  }
  const auto bits = std::bit_cast<uint64_t>(value);
  std::memcpy(bytes.data(), &bits, 8);
  return {fmt::format("$f64.{:016x}", bits), bytes};
}

// 0.5, (0.0), -2.0 or (-2.0): a floating constant's value, else nullopt.
std::optional<double> floating_constant(Tokens t, size_t b, size_t e) {
  if (e > b + 2 && is(t[b], "(") && is(t[e - 1], ")")) ++b, --e;
  const bool negative = e == b + 2 && is(t[b], "-");
  if (negative) ++b;
  if (e != b + 1 || t[b].kind != TokenKind::Number || !t[b].floating) return std::nullopt;
  return negative ? -t[b].real : t[b].real;
}

namespace {

Error arg_error(const Arg& a, const SourceLoc& at, std::string what) {
  return Error::at(at, fmt::format("{} in '{}'", what, a.text()));
}

// An operand with no parenthesised group, t[b, e) after any `$`: a register pair, a register, a label, or
// a bare constant (memory at that address).
Expected<Arg> parse_ungrouped(Arg& a, Tokens t, size_t b, size_t e, bool dollar) {
  if (e == b + 3 && !dollar && is(t[b + 1], ":")) {  // DX:AX, 6a's register pair
    auto hi = find_register(t[b].text), lo = find_register(t[b + 2].text);
    if (!hi || !lo || hi->cls != Reg::Gp || lo->cls != Reg::Gp) return arg_error(a, t[b].loc, "a register pair is two general registers, hi:lo");
    a.kind = Arg::Register;
    a.reg = *hi;
    a.low = *lo;
    return a;
  }
  if (e == b + 1 && t[b].kind == TokenKind::Ident) {
    if (auto r = find_register(t[b].text)) {
      if (r->cls == Reg::Sb || r->cls == Reg::Fp || r->cls == Reg::Pc)
        return arg_error(a, t[b].loc, fmt::format("{} is a pseudo-register: write sym(SB), name+8(FP) or 2(PC)", t[b].text));
      a.kind = Arg::Register;
      a.reg = *r;
      return a;
    }
    a.kind = Arg::Label;
    a.name = t[b].text;
    return a;
  }
  // A bare constant: memory at that absolute address (MOVL $0xf1, 0xf1, the runtime's crash on purpose).
  if (auto v = evaluate(t, b, e); v && !dollar) {
    a.kind = Arg::Memory;
    a.value = *v;
    return a;
  }
  return arg_error(a, t[b].loc, "expected a register, $constant, label or memory operand like 8(SP) or sym(SB)");
}

// An operand whose group, (REG), starts at t[group]: `sym`, `sym+off`, `name+off` or an offset before it,
// (REG) itself (`first`, found by register_group), then optionally (index*scale).
Expected<Arg> parse_grouped(Arg& a, Tokens t, size_t b, size_t group, const Reg& first, size_t e, bool dollar) {
  size_t offset_begin = b;
  if (t[b].kind == TokenKind::Ident && !find_register(t[b].text)) {
    a.name = t[b].text;
    offset_begin = b + 1;
    if (offset_begin < group && !is(t[offset_begin], "+") && !is(t[offset_begin], "-"))
      return arg_error(a, t[offset_begin].loc, "expected + or - after the name");
  }
  if (offset_begin < group) {
    auto v = evaluate(t, offset_begin, group);
    if (!v) return v.error();
    a.value = *v;
  }
  size_t i = group;
  if (i + 2 < e && is(t[i + 2], "*") && a.name.empty()) {  // off(R*s): an index with no base
    a.kind = Arg::Memory;
    if (auto st = parse_index(t, i, e, a); !st) return st.error();
    if (dollar) return arg_error(a, t[b - 1].loc, "$ takes a constant or the address of sym(SB)");
    if (i + 5 < e) return arg_error(a, t[i + 5].loc, fmt::format("unexpected '{}' after the operand", t[i + 5].text));
    return a;
  }
  if (i + 2 >= e || !is(t[i + 2], ")")) return arg_error(a, t[i + 1].loc, "expected ) after the register");
  i += 3;
  if (dollar && first.cls != Reg::Sb) return arg_error(a, t[b - 1].loc, "$ takes a constant or the address of sym(SB)");
  switch (first.cls) {
    case Reg::Sb: a.kind = dollar ? Arg::Address : Arg::Symbol; break;
    case Reg::Fp: a.kind = Arg::Frame; break;
    case Reg::Pc: a.kind = Arg::PcRelative; break;
    case Reg::Seg: a.kind = Arg::Memory, a.segment = first; break;
    case Reg::Gp: a.kind = Arg::Memory, a.base = first; break;
    default: return arg_error(a, t[group + 1].loc, fmt::format("{} cannot address memory", t[group + 1].text));
  }
  if ((a.kind == Arg::Symbol || a.kind == Arg::Address) && a.name.empty())
    return arg_error(a, t[group].loc, "(SB) needs a symbol name before it, as in runtime·x(SB)");
  if (a.kind == Arg::PcRelative && !a.name.empty()) return arg_error(a, t[b].loc, "N(PC) takes a number, not a name");
  if (a.kind == Arg::Memory && !a.name.empty() && !(a.base && a.base->id == asmjit::x86::Gp::kIdSp))
    return arg_error(a, t[b].loc, fmt::format("undefined: {} (a name before (REG) needs (SB), (FP) or (SP))", a.name));
  if (i < e && is(t[i], "(")) {
    if (auto st = parse_index(t, i, e, a); !st) return st.error();
    i += 5;
  }
  if (i < e) return arg_error(a, t[i].loc, fmt::format("unexpected '{}' after the operand", t[i].text));
  return a;
}

}  // namespace

Expected<Arg> parse_arg(Tokens t, size_t b, size_t e) {
  if (b >= e) return Error::at(b < t.size() ? t[b].loc : t.empty() ? SourceLoc{} : t.back().loc, "missing operand");
  Arg a;
  a.loc = t[b].loc;
  a.tokens = t, a.begin = b, a.end = e;
  Reg first;  // the group's register
  const size_t group = register_group(t, b, e, first);
  if (is(t[b], "$")) {
    if (auto real = floating_constant(t, b + 1, e)) {
      a.kind = Arg::Float;
      a.real = *real;
      return a;
    }
    if (b + 1 < e && t[b + 1].kind == TokenKind::String) {
      if (e != b + 2) return arg_error(a, t[b + 2].loc, "unexpected text after the string");
      a.kind = Arg::String;
      a.name = t[b + 1].text;
      return a;
    }
    if (group == e) {
      auto v = evaluate(t, b + 1, e);
      if (!v) return v.error();
      a.kind = Arg::Immediate;
      a.value = *v;
      return a;
    }
    a.kind = Arg::Address;
    ++b;
  }
  const bool dollar = a.kind == Arg::Address;
  return group == e ? parse_ungrouped(a, t, b, e, dollar) : parse_grouped(a, t, b, group, first, e, dollar);
}

}  // namespace w64stub::plan9
