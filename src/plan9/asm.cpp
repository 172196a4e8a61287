#include "w64stub/plan9/asm.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "assembler_p.hpp"

namespace w64stub::plan9 {

// A bare constant where an operand stands (6a's CMPSD X2, X0, 5): parsed as absolute memory.
static bool is_bare_number(const Arg& a) { return a.kind == Arg::Memory && !a.base && !a.index && !a.segment; }

static bool any_vector_register(std::span<const Arg> args) {
  return std::any_of(args.begin(), args.end(), [](const Arg& a) {
    return a.kind == Arg::Register && (a.reg.cls == Reg::Xmm || a.reg.cls == Reg::Ymm);
  });
}

static Directive directive_of(std::string_view word) {
  switch (word.empty() ? '\0' : word[0]) {  // one comparison at most: most words are mnemonics
    case 'T': return word == "TEXT" ? Directive::Text : Directive::None;
    case 'G': return word == "GLOBL" ? Directive::Globl : Directive::None;
    case 'D': return word == "DATA" ? Directive::Data : Directive::None;
    case 'F': return word == "FUNCDATA" ? Directive::Funcdata : Directive::None;
    case 'P': return word == "PCDATA" ? Directive::Pcdata : Directive::None;
    case 'A': return word == "ADJSP" ? Directive::Adjsp : Directive::None;
    default: return Directive::None;
  }
}

Status Assembler::statement(const Statement& s, Directive directive) {
  if (s.kind == Statement::Pragma) return pragma(s);
  if (s.kind == Statement::Label) {
    if (!body_) return at(s.loc, fmt::format("label {} outside a TEXT symbol", s.tokens[0].text));
    auto [it, fresh] = body_->labels.emplace(s.tokens[0].text, s.loc);
    if (!fresh) return at(s.loc, fmt::format("label {} is already defined at {}", s.tokens[0].text, it->second.str()));
    body_->program.instrs.push_back(Instr::bind(std::string(s.tokens[0].text), s.loc));
    return Ok{};
  }
  const Token& op = s.tokens[0];
  if (op.kind != TokenKind::Ident) return at(op.loc, fmt::format("expected an instruction, got '{}'", op.text));
  switch (directive) {
    case Directive::Text: return text(s);
    case Directive::Globl: return globl(s);
    case Directive::Data: return data(s);
    case Directive::Funcdata:
    case Directive::Pcdata:
    case Directive::Adjsp:
      if (!body_) return at(op.loc, fmt::format("{} outside a TEXT symbol", op.text));
      return directive == Directive::Adjsp ? adjsp(s) : Ok{};  // FUNCDATA, PCDATA: Go's garbage collector tables, no code
    case Directive::None: break;
  }
  auto m = find_mnemonic(op.text);
  if (!m) {
    bool lower_case = std::any_of(op.text.begin(), op.text.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); });
    return at(op.loc, fmt::format("unknown instruction '{}'{}", op.text,
                                  lower_case ? " (Plan 9 mnemonics are upper case, with a size suffix: MOVQ)" : ""));
  }
  if (!body_) return at(op.loc, fmt::format("{} outside a TEXT symbol", op.text));
  return instruction(s, *m);
}

Expected<Operand> Assembler::lower(const Arg& a, uint32_t size, bool address_only) {
  auto bad = [&](std::string what) { return Error::at(a.loc, fmt::format("{} in '{}'", what, a.text())); };
  switch (a.kind) {
    case Arg::Register:
      if (a.low) return bad("a register pair is an operand of SHLQ/SHRQ only");
      switch (a.reg.cls) {
        case Reg::Gp: return Operand(sized_gp(a.reg.id, size));
        case Reg::GpHigh:
          if (size != 1) return bad("AH, BH, CH and DH are byte registers: use a B instruction");
          return Operand(x86::gpb_hi(a.reg.id));
        case Reg::Xmm: return Operand(x86::xmm(a.reg.id));
        case Reg::Ymm: return Operand(x86::ymm(a.reg.id));
        default: return bad("a segment register is not an operand here (write 0x28(GS))");
      }
    case Arg::Immediate:
      if (auto refused = immediate_fits(a.value, size); !refused.empty()) return bad(refused);
      return Operand(asmjit::Imm(a.value));
    case Arg::Address: return Operand(SymbolAddr{std::string(a.name), a.value});
    case Arg::Symbol: return Operand(SymbolMem{std::string(a.name), a.value, address_only ? 0 : size});
    case Arg::String: return bad("a string is only a DATA value");
    case Arg::Float: {  // as Go does: a read-only constant in memory, named by its bits
      auto [name, bytes] = plan9::floating_constant_data(a.real, float_width_);
      floats_.emplace(name, std::move(bytes));
      return Operand(SymbolMem{std::move(name), 0, float_width_});
    }
    case Arg::Label: return Operand(CodeLabel{std::string(a.name)});
    case Arg::PcRelative: {
      if (a.value < -(int64_t{1} << 31) || a.value > (int64_t{1} << 31)) return bad("N(PC) lies outside any TEXT symbol");
      body_->pc_targets.emplace_back(body_->prog_starts.size(), a.value);
      body_->pc_locs.push_back(a.loc);
      return Operand(CodeLabel{fmt::format(".pc{}", body_->prog_starts.size() + static_cast<size_t>(a.value))});
    }
    case Arg::Frame:
    case Arg::Memory: {
      int64_t disp = a.value;
      if (a.kind == Arg::Frame) disp += body_->program.declared_frame + 8 + body_->push_depth;  // above the return address
      // 6a kept the low 32 bits of an unsigned 32-bit displacement (0xd76aa478(AX)): sign-extended, as Go does.
      if (a.kind == Arg::Memory && disp > INT32_MAX && disp <= UINT32_MAX) disp = static_cast<int32_t>(static_cast<uint32_t>(disp));
      if (disp < INT32_MIN || disp > INT32_MAX) return bad("the offset does not fit in 32 bits");
      const uint32_t width = address_only ? 0 : size;
      if (a.kind == Arg::Memory && !a.base && !a.index && !a.segment)  // absolute: SIB with no base, never RIP-relative
        return Operand(x86::ptr_abs(static_cast<uint64_t>(disp), width));
      if (a.segment) {
        x86::Mem m = x86::ptr_abs(static_cast<uint64_t>(disp), width);
        m.setSegment(a.segment->id == x86::SReg::kIdGs ? x86::gs : x86::fs);
        return Operand(m);
      }
      const uint32_t shift = a.scale == 8 ? 3 : a.scale == 4 ? 2 : a.scale == 2 ? 1 : 0;
      if (a.kind == Arg::Memory && !a.base)  // off(R*s): SIB with an index and no base
        return Operand(x86::ptr_abs(static_cast<uint64_t>(static_cast<int64_t>(disp)), x86::gpq(a.index->id), shift, width));
      const x86::Gp base = a.kind == Arg::Frame ? x86::rsp : x86::gpq(a.base->id);
      if (a.index) return Operand(x86::ptr(base, x86::gpq(a.index->id), shift, static_cast<int32_t>(disp), width));
      return Operand(x86::ptr(base, static_cast<int32_t>(disp), width));
    }
  }
  return bad("unsupported operand");
}

// The operands of one instruction, lowered in Intel order as its form writes them.
Status Assembler::add_operand(Instr& instr, const Arg& a, uint32_t size, bool address_only) {
  auto op = lower(a, size, address_only);
  if (!op) return op.error();
  instr.operands.push_back(std::move(*op));
  return Ok{};
}

// SHLQ $n, AX; SHLQ CX, AX, DX (or 6a's DX:AX) as shld rdx, rax, cl.
Status Assembler::lower_shift(const Mnemonic& m, const Token& mnemonic, std::span<const Arg> args, Instr& instr) {
  auto add = [&](const Arg& a, uint32_t size) { return add_operand(instr, a, size); };
  Status st = Ok{};
  if (args.size() == 3 || args[1].low) {  // SHLQ CX, AX, DX (or 6a's DX:AX): shld rdx, rax, cl
    if (m.id != x86::Inst::kIdShl && m.id != x86::Inst::kIdShr)
      return at(args[1].loc, fmt::format("{} has no double-register form", mnemonic.text));
    instr.id = m.id == x86::Inst::kIdShl ? x86::Inst::kIdShld : x86::Inst::kIdShrd;
    plan9::Arg destination = args.size() == 3 ? args[2] : args[1], source = args[1];
    if (args.size() == 2) source.reg = *args[1].low;
    destination.low.reset(), source.low.reset();
    if (!(st = add(destination, m.size)) || !(st = add(source, m.size))) return st;
  } else if (!(st = add(args[1], m.size))) {
    return st;
  }
  if (args[0].kind == Arg::Register && args[0].reg.cls == Reg::Gp && args[0].reg.id == x86::Gp::kIdCx)
    instr.operands.emplace_back(asmjit::Operand(x86::cl));
  else if (args[0].kind == Arg::Immediate)
    st = add(args[0], 1);
  else
    return at(args[0].loc, fmt::format("a shift count is $constant or CX, got '{}'", args[0].text()));
  return st;
}

// MOVS, STOS, SCAS, LODS, CMPS: the implicit operands, in asmjit's order.
static void string_operands(const Mnemonic& m, Instr& instr) {
  const asmjit::Operand rdi = x86::ptr(x86::rdi, 0, m.size), rsi = x86::ptr(x86::rsi, 0, m.size);
  const asmjit::Operand ax = sized_gp(x86::Gp::kIdAx, m.size);
  const bool reads_rsi = m.id == x86::Inst::kIdMovs || m.id == x86::Inst::kIdLods || m.id == x86::Inst::kIdCmps;
  const bool ax_first = m.id == x86::Inst::kIdScas || m.id == x86::Inst::kIdLods;
  const asmjit::Operand first = ax_first ? ax : m.id == x86::Inst::kIdCmps ? rsi : rdi;
  const asmjit::Operand second = m.id == x86::Inst::kIdLods ? rsi : m.id == x86::Inst::kIdScas || m.id == x86::Inst::kIdCmps ? rdi
                                 : reads_rsi ? rsi : ax;
  instr.operands.emplace_back(first);
  instr.operands.emplace_back(second);
}

// Go's rule: sources first, the destination last - Intel's order reversed.
Status Assembler::lower_auto(const Mnemonic& m, std::span<const Arg> args, Instr& instr) {
  auto add = [&](const Arg& a, uint32_t size) { return add_operand(instr, a, size); };
  const bool any_xmm = any_vector_register(args);
  Status st = Ok{};
  if ((m.id == x86::Inst::kIdMovsd || m.id == x86::Inst::kIdMovss) && args.size() == 2 && args[0].kind == Arg::Float &&
      args[0].real == 0 && !std::signbit(args[0].real) && args[1].kind == Arg::Register) {
    instr.id = x86::Inst::kIdXorps;  // MOVSD $(0.0), X: XORPS X, X, as Go's linker (and assembler) rewrite it
    if ((st = add(args[1], 0))) st = add(args[1], 0);
    return st;
  }
  if (args.size() == 3 && (args[2].kind == Arg::Immediate || is_bare_number(args[2]))) {
    // CMPSD X2, X0, $5 (6a also wrote a bare 5): cmpsd xmm0, xmm2, 5
    for (size_t k : {1, 0})
      if (st) st = add(args[k], any_xmm && args[k].kind != Arg::Register ? 0 : m.size);
    if (!st) return st;
    if (!immediate_fits(args[2].value, 1).empty())
      return at(args[2].loc, fmt::format("the predicate {} does not fit a byte", args[2].value));
    instr.operands.emplace_back(asmjit::Operand(asmjit::Imm(args[2].value)));
    return st;
  }
  for (auto it = args.rbegin(); st && it != args.rend(); ++it) st = add(*it, any_xmm && it->kind != Arg::Register ? 0 : m.size);
  return st;
}

Status Assembler::lower_operands(const Mnemonic& m, const Token& mnemonic, std::span<const Arg> args, Instr& instr) {
  auto add = [&](const Arg& a, uint32_t size, bool address_only = false) { return add_operand(instr, a, size, address_only); };
  const bool any_xmm = any_vector_register(args);
  Status st = Ok{};
  switch (m.form) {
    case Form::Binary: {
      uint32_t size = m.size;
      if (any_xmm && m.id == x86::Inst::kIdMov && (m.size == 8 || m.size == 4))  // MOVQ X0, AX: movq; MOVL: movd
        instr.id = m.size == 8 ? x86::Inst::kIdMovq : x86::Inst::kIdMovd;
      const bool lea = m.id == x86::Inst::kIdLea;
      if (lea && args[0].kind != Arg::Memory && args[0].kind != Arg::Frame && args[0].kind != Arg::Symbol)
        return at(args[0].loc, fmt::format("{} needs a memory operand to take the address of, got '{}'", mnemonic.text, args[0].text()));
      if (!(st = add(args[1], size))) return st;
      const bool mov_imm64 = m.id == x86::Inst::kIdMov && size == 8 && args[0].kind == Arg::Immediate;
      st = add(args[0], mov_imm64 ? 0 : size, lea);  // MOVQ $imm64, R: any 64-bit value
      break;
    }
    case Form::Compare:
      if (!(st = add(args[0], m.size))) return st;
      st = add(args[1], m.size);
      break;
    case Form::Unary:
      st = add(args[0], m.size);
      break;
    case Form::Shift:
      st = lower_shift(m, mnemonic, args, instr);
      break;
    case Form::Extend:
      if (!(st = add(args[1], m.size))) return st;
      st = add(args[0], m.src_size);
      instr.reg_from_rm = m.id == x86::Inst::kIdMov;  // MOVLQZX: Go writes 8b, mov's r/m-to-register form
      break;
    case Form::StringOp:
      string_operands(m, instr);
      break;
    case Form::Jump:
    case Form::Call:
      if (args[0].kind == Arg::Symbol || args[0].kind == Arg::Address) {  // CALL ·f(SB): rel32 to another symbol
        instr.operands.emplace_back(SymbolAddr{std::string(args[0].name), args[0].value});
        break;
      }
      if (args[0].kind == Arg::Immediate) return at(args[0].loc, fmt::format("{} needs a label, N(PC), register or memory", mnemonic.text));
      if (m.form == Form::Call && (args[0].kind == Arg::Label || args[0].kind == Arg::PcRelative))
        return at(args[0].loc, "CALL to a label inside the same TEXT symbol is not supported");
      st = add(args[0], 8);
      break;
    case Form::Int:
      if (args[0].kind != Arg::Immediate || args[0].value < 0 || args[0].value > 255)
        return at(args[0].loc, "INT takes $0 to $255");
      st = add(args[0], 1);  // INT $3 too: cd 03, as Go's assemblers write it (GNU as writes cc)
      break;
    case Form::Auto:  // Go's rule: sources first, the destination last - Intel's order reversed
      st = lower_auto(m, args, instr);
      break;
    case Form::Raw: {
      if (args[0].kind != Arg::Immediate) return at(args[0].loc, fmt::format("{} takes a $constant", mnemonic.text));
      if (auto refused = immediate_fits(args[0].value, m.size == 8 ? 0 : m.size); !refused.empty()) return at(args[0].loc, refused);
      for (uint32_t k = 0; k < m.size; ++k) instr.raw.push_back(static_cast<uint8_t>(static_cast<uint64_t>(args[0].value) >> (8 * k)));
      break;
    }
    case Form::None:
    case Form::Prefix:
      break;
  }
  return st;
}

Status Assembler::instruction(const Statement& s, const Mnemonic& m) {
  const auto& t = s.tokens;
  plan9::split_operands(t, 1, t.size(), ranges_);
  auto& args = args_;
  args.clear();
  for (auto [b, e] : ranges_) {
    auto a = plan9::parse_arg(t, b, e);
    if (!a) return a.error();
    args.push_back(std::move(*a));
  }
  const size_t want = m.form == Form::Auto ? std::min<size_t>(args.size(), 4)
                      : m.form == Form::Shift && args.size() == 3 ? 3
                      : m.form == Form::Binary || m.form == Form::Compare || m.form == Form::Shift || m.form == Form::Extend ? 2
                      : m.form == Form::Unary || m.form == Form::Jump || m.form == Form::Call || m.form == Form::Int ||
                                m.form == Form::Raw ? 1 : 0;
  if (args.size() != want)
    return at(t[0].loc, fmt::format("{} takes {} operand{}, got {}: '{}'", t[0].text, want, want == 1 ? "" : "s", args.size(),
                                    plan9::spell(t)));
  if (m.form != Form::Jump && m.form != Form::Call)
    for (const Arg& a : args)
      if (a.kind == Arg::Label)
        return at(a.loc, fmt::format("undefined: {} (not a register; a label is only a jump target)", a.name));
  Body& body = *body_;
  if (m.form == Form::Prefix) {
    if (body.pending != Prefix::None) return at(t[0].loc, "two prefixes in a row");
    body.pending = m.prefix;
    body.pending_loc = t[0].loc;
    body.prog_starts.push_back(body.program.instrs.size());
    return Ok{};
  }

  // Made in place (an Instr is large; the body has room for it, reserve_body): taken back on an error.
  const size_t index = body.program.instrs.size();
  Instr& instr = body.program.instrs.emplace_back();
  instr.id = m.id;
  instr.loc = t[0].loc;
  instr.prefix = std::exchange(body.pending, Prefix::None);
  instr.operands.reserve(args.size());
  float_width_ = t[0].text.ends_with("SS") ? 4 : 8;
  if (auto st = lower_operands(m, t[0], args, instr); !st) return body.program.instrs.pop_back(), st;

  // 6l's view of the stack for FP offsets: pushes and pops, not SUBQ/ADDQ (DESIGN: "hide from 6l").
  if (m.id == x86::Inst::kIdPush || m.id == x86::Inst::kIdPushfq) body.push_depth += static_cast<int32_t>(m.size ? m.size : 8);
  if (m.id == x86::Inst::kIdPop || m.id == x86::Inst::kIdPopfq) body.push_depth -= static_cast<int32_t>(m.size ? m.size : 8);
  body.prog_starts.push_back(index);
  return Ok{};
}

// Go's ADJSP $n: SUBQ $n, SP (ADDQ for a negative n), and FP offsets after it move as after pushes.
Status Assembler::adjsp(const Statement& s) {
  plan9::split_operands(s.tokens, 1, s.tokens.size(), ranges_);
  const plan9::Ranges& ranges = ranges_;
  auto a = ranges.size() == 1 ? plan9::parse_arg(s.tokens, ranges[0].first, ranges[0].second) : Expected<Arg>(Error{""});
  if (!a || a->kind != Arg::Immediate) return at(s.tokens[0].loc, fmt::format("ADJSP takes one $constant: '{}'", plan9::spell(s.tokens)));
  if (a->value <= INT32_MIN || a->value > INT32_MAX) return at(a->loc, fmt::format("ADJSP ${} does not fit in 32 bits", a->value));
  const auto n = static_cast<int32_t>(a->value);
  Body& body = *body_;
  body.push_depth += n;
  body.prog_starts.push_back(body.program.instrs.size());
  body.program.instrs.push_back(Instr{n >= 0 ? x86::Inst::kIdSub : x86::Inst::kIdAdd,
                                      {Operand(x86::rsp), Operand(asmjit::Imm(n >= 0 ? n : -n))}, s.tokens[0].loc,
                                      std::exchange(body.pending, Prefix::None)});
  return Ok{};
}

// N(PC) branches become labels at their targets; the body becomes a Program.
Status Assembler::finish_body() {
  if (!body_) return Ok{};
  Body& body = *body_;
  if (body.pending != Prefix::None) return at(body.pending_loc, "a prefix with no instruction after it");
  std::map<size_t, std::string> binds;  // Instr index -> label
  for (size_t k = 0; k < body.pc_targets.size(); ++k) {
    auto [from, n] = body.pc_targets[k];
    const int64_t target = static_cast<int64_t>(from) + n;
    if (target < 0 || target > static_cast<int64_t>(body.prog_starts.size()))
      return at(body.pc_locs[k], fmt::format("{}(PC) leads outside TEXT {}", n, body.program.symbol));
    const size_t at_instr = static_cast<size_t>(target) == body.prog_starts.size() ? body.program.instrs.size()
                                                                                    : body.prog_starts[static_cast<size_t>(target)];
    binds[at_instr] = fmt::format(".pc{}", target);
  }
  if (!binds.empty()) {  // one merge: an insertion each would move the rest of the body each time
    std::vector<Instr> merged;
    merged.reserve(body.program.instrs.size() + binds.size());
    auto bind = binds.begin();
    for (size_t k = 0; k <= body.program.instrs.size(); ++k) {
      for (; bind != binds.end() && bind->first == k; ++bind) merged.push_back(Instr::bind(bind->second, body.program.loc));
      if (k < body.program.instrs.size()) merged.push_back(std::move(body.program.instrs[k]));
    }
    body.program.instrs = std::move(merged);
  }
  // The file's lines, shared by all its Programs (held once, however many symbols it has).
  Program& p = body.program;
  p.source_lines = source_.main_lines;
  // The room body_lines guessed stays with the Program: not when the guess was far off (a TEXT a macro
  // made, a long /* */ comment in the body).
  if (p.instrs.capacity() > 2 * p.instrs.size() + 16) p.instrs.shrink_to_fit();
  done_.push_back(std::move(body.program));
  body_.reset();
  return Ok{};
}

// Room for a TEXT's body, guessed from the lines of its file that follow it: the statements come one at a
// time, so they cannot be counted first, and an Instr is large to move as a vector grows. Each line from
// `from` up to the next TEXT counts but blank ones, comments and declarations; `from` moves there. Only a
// guess: a line with `;` makes more statements, a macro other lines, and the vector then grows as it must.
static size_t body_lines(const SourceLines& lines, size_t& from) {
  auto word = [](std::string_view line, std::string_view w) {  // w, not the start of a longer name
    if (!line.starts_with(w)) return false;
    if (line.size() == w.size()) return true;
    const char c = line[w.size()];
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  };
  size_t count = 0;
  for (; from < lines.size(); ++from) {
    std::string_view line = lines[from];
    while (!line.empty() && (line[0] == ' ' || line[0] == '\t')) line.remove_prefix(1);
    if (word(line, "TEXT")) break;
    if (!line.empty() && !line.starts_with("//") && line[0] != '#' && !word(line, "DATA") && !word(line, "GLOBL")) ++count;
  }
  return count;
}

void Assembler::end_body() {
  if (!body_) return;
  if (auto st = finish_body(); !st) refuse(file_, body_->program.symbol, st.error());  // a body it refuses stays
  body_.reset();
}

// Statement by statement; an error drops the TEXT symbol it is in and skips to the next TEXT.
void Assembler::take(const Statement& s) {
  if (file_.stopped) return;
  if (file_.errors.size() >= kMaxPlan9Errors) {
    file_.stopped = true;
    return;
  }
  const Directive directive =
      s.kind == Statement::Instruction && !s.tokens.empty() ? directive_of(s.tokens[0].text) : Directive::None;
  const bool text = directive == Directive::Text;
  if (text) end_body(), skipping_ = false;
  if (skipping_) return;
  if (auto st = statement(s, directive); !st) {
    // The symbol the statement belongs to: a TEXT names its own; no other statement starts or ends one.
    const std::string symbol = text ? (s.tokens.size() > 1 ? std::string(s.tokens[1].text) : "")
                               : body_    ? body_->program.symbol
                                          : "";
    refuse(file_, symbol, st.error());
    skipping_ = body_.has_value() || text;
    body_.reset();
  } else if (text && s.loc.file == source_.main_file && static_cast<size_t>(s.loc.line) >= scanned_to_) {
    // Each line is looked at once: TEXTs a macro makes on one line share the guess of the first.
    scanned_to_ = static_cast<size_t>(s.loc.line);
    const size_t room = body_lines(source_.main_lines, scanned_to_);
    body_->program.instrs.reserve(room);
    body_->prog_starts.reserve(room);
  }
}

// Each Program gets the imports and data it names, in the order the file declares them.
Plan9File Assembler::finish() {
  end_body();
  Plan9File file = std::move(file_);
  file.path = path_;
  file.lines = source_.main_lines;
  finish_data(file);
  file.symbols = std::move(symbols_);
  if (done_.empty() && file.errors.empty()) refuse(file, "", Error{fmt::format("{}: no TEXT symbol", path_)});
  file.programs.reserve(done_.size());
  for (Program& p : done_) {
    Status st = attach_symbols(p, &p == &done_.back());
    if (st) st = p.check_symbols();
    if (!st) refuse(file, p.symbol, st.error());
    else file.programs.push_back(std::move(p));
  }
  return file;
}

}  // namespace w64stub::plan9

namespace w64stub {

using plan9::Assembler;

Expected<Plan9File> assemble_plan9_file(const std::string& path, const Plan9Options& options) {
  plan9::SourceStore source;
  Assembler assembler(path, source);
  if (auto read = plan9::preprocess(path, options, source, assembler); !read) return read.error();
  return assembler.finish();
}

Expected<std::vector<Program>> assemble_plan9(const std::string& path, const Plan9Options& options) {
  auto file = assemble_plan9_file(path, options);
  if (!file) return file.error();
  if (!file->errors.empty()) {
    if (file->errors.size() == 1 && !file->stopped) return file->errors.front().error;  // its own message, as before
    return Error{file->report()};
  }
  return std::move(file->programs);
}

Expected<Program> assemble_plan9_symbol(const std::string& path, std::string_view symbol, const Plan9Options& options) {
  auto programs = assemble_plan9(path, options);
  if (!programs) return programs.error();
  return choose_symbol(std::move(*programs), path, symbol);
}

}  // namespace w64stub
