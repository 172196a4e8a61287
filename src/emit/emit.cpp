#include "w64stub/emit/emit.hpp"

#include "relax_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "w64stub/core/disasm.hpp"
#include "w64stub/core/field.hpp"
#include "w64stub/win/unwind.hpp"

namespace w64stub {
namespace x86 = asmjit::x86;

namespace {

// One Program instruction after lowering: up to two machine instructions (abs64 loads need two). Fixed
// arrays, filled in place: lowering allocates nothing and copies no unused operand.
struct Lowered {
  struct Machine {
    static constexpr uint32_t kMaxOps = 6;  // asmjit's most
    asmjit::InstId id = 0;
    asmjit::Operand_ ops[kMaxOps];  // the first op_count are set
    uint32_t op_count = 0;
    bool long_form = false;  // force the 64-bit immediate form
    // The symbol an address field holds: the displacement's and the immediate's apart, as both can hold
    // one (MOVQ $x(SB), y(SB) in go2012: mov qword [y], x).
    struct Site {
      const std::string* symbol = nullptr;
      int64_t addend = 0;
    };
    Site disp, imm;
    Prefix prefix = Prefix::None;
    bool reg_from_rm = false;
    bool branch = false;  // a CALL/JMP/Jcc to a symbol: its rel32 field (imm) is the relocation's

    void push(const asmjit::Operand& op) { ops[op_count++] = op; }
  };
  Machine machine[2];
  uint32_t count = 0;
};

// One CodeHolder per thread, reset (its memory kept) for each emission: setting one up costs more than
// encoding a stub.
asmjit::CodeHolder& reused_code_holder() {
  thread_local asmjit::CodeHolder code;
  return code;
}

class Emitter {
 public:
  // short_branches: by program index, the jumps to emit in their rel8 form (see relaxable()); empty for none.
  // all_short: every jump to a label in its rel8 form instead (asmjit refuses one that does not reach).
  // Fills `image`, which starts empty.
  Emitter(const Program& program, const EmitOptions& options, const Layout& layout, const std::vector<bool>& short_branches,
          bool all_short, Image& image)
      : program_(program), options_(options), layout_(layout), image_(image), short_branches_(short_branches),
        all_short_(all_short) {
    if (!program.externals.empty() || !program.functions.empty())
      placed_later_.reserve(program.externals.size() + program.functions.size());
    for (const std::string& e : program.externals) placed_later_.insert(e);
    for (const Function& f : program.functions) placed_later_.insert(f.symbol);
  }

  Status run();
  // The jumps to labels GNU as's relaxation makes rel8, on this pass's layout (find_relaxable).
  const std::vector<bool>& relaxable() const { return relaxable_; }
  // Whether this pass encoded exactly those jumps short, so that its bytes are the relaxed ones: the
  // all-short pass when asmjit accepted every jump, or a long-first pass whose only short jumps are the
  // backward ones asmjit chose itself.
  bool settled() const { return settled_; }

 private:
  [[gnu::always_inline]] Status lower(const Instr& instr, Lowered& out);  // once per instruction, from emit_body
  Status lower_memory(const Instr& instr, const SymbolMem& mem, bool mov_to_reg, Lowered& out);
  Status lower_address(const Instr& instr, const SymbolAddr& addr, bool mov_to_reg, Lowered::Machine& m);
  Error unsupported(const Instr& instr, std::string_view why) const;
  Status encode(const Lowered::Machine& m, int program_index, const SourceLoc& loc);
  using FunctionView = Program::FunctionView;
  Status emit_frame_adjust(asmjit::InstId id, const FunctionView& function);
  Status emit_body();
  void find_relaxable();
  void append_rip_data();
  Status build_data_section();
  Error asm_error(asmjit::Error err, const SourceLoc& loc, std::string_view what) const;
  // An external's address is 0 until it is placed, a function's until the code is laid out: the relocation
  // carries it (resolve_functions writes the functions').
  uint64_t address_of(const std::string& symbol) const {
    if (!placed_later_.empty() && placed_later_.count(symbol)) return 0;  // (a stub has none: no hashing)
    return layout_.address_of(symbol).value();  // check_symbols: it is there
  }
  Status resolve_functions();

  const Program& program_;
  const EmitOptions& options_;
  const Layout& layout_;
  asmjit::CodeHolder& code_ = reused_code_holder();
  x86::Assembler* a_ = nullptr;
  asmjit::Label code_label(const std::string& name);

  // By the names the Program holds (it outlives the Emitter), hashed: a linked file has thousands.
  std::unordered_map<std::string_view, asmjit::Label> labels_;       // rip model: import slots and data
  std::unordered_map<std::string_view, asmjit::Label> code_labels_;  // the Program's own labels
  Image& image_;
  const std::vector<bool>& short_branches_;
  const bool all_short_;
  std::vector<bool> relaxable_;
  bool settled_ = true;
  struct Branch {
    int program_index;
    asmjit::Label label;  // the Program's label (a jump to another symbol is no Branch: it stays long)
    uint32_t offset, length;
  };
  std::vector<Branch> branches_;
  std::unordered_set<std::string_view> placed_later_;  // externals and functions: by name, once
  std::vector<uint32_t> function_starts_;  // of each program_.function(k), in the text
};

// asmjit numbers the conditional jumps ja..jz in one run (jecxz among them: rel8 only).
bool is_jcc(asmjit::InstId id) { return id >= x86::Inst::kIdJa && id <= x86::Inst::kIdJz; }

bool is_branch(asmjit::InstId id) { return id == x86::Inst::kIdCall || id == x86::Inst::kIdJmp || is_jcc(id); }
// A jump whose form relaxation chooses (a JECXZ has only its rel8 one).
bool relaxes(asmjit::InstId id) { return id == x86::Inst::kIdJmp || (is_jcc(id) && id != x86::Inst::kIdJecxz); }
// Such a jump to one of the Program's labels (one to a symbol stays long, for its relocation).
bool relaxes(const Lowered::Machine& m) {
  if (m.branch || !relaxes(m.id)) return false;
  return std::any_of(m.ops, m.ops + m.op_count, [](const asmjit::Operand_& op) { return op.isLabel(); });
}

Error Emitter::asm_error(asmjit::Error err, const SourceLoc& loc, std::string_view what) const {
  return Error::at(loc, fmt::format("asmjit cannot encode {}: {}", what, asmjit::DebugUtils::errorAsString(err)));
}

asmjit::Label Emitter::code_label(const std::string& name) {
  auto [it, fresh] = code_labels_.try_emplace(name);
  if (fresh) it->second = a_->newLabel();
  return it->second;
}

// go2012: every address is a sign-extended 32-bit field. asmjit would encode one beyond it in another form
// (an addr32 prefix, a 64-bit immediate): the instruction's form would then depend on where things lie.
bool fits_go2012(uint64_t address) {
  uint64_t value = 0;
  return field_value(RelocKind::Abs32S, address, 0, value);
}

std::string out_of_reach(const std::string& symbol, int64_t offset, uint64_t at) {
  return fmt::format("{}{:+#x} lies at {:#x}, beyond a sign-extended 32-bit field", symbol, offset, at);
}

Error Emitter::unsupported(const Instr& instr, std::string_view why) const {
  return Error::at(instr.loc, fmt::format("{} model: {} ({})", name(options_.model), why, program_.source_text(instr.loc)));
}

// sym+off(SB) as memory: an absolute field (go2012), RIP-relative (rip), or the abs64 pair - the destination
// loaded with the address, then read through it (made in out.machine[1]; lower() puts it first).
Status Emitter::lower_memory(const Instr& instr, const SymbolMem& mem, bool mov_to_reg, Lowered& out) {
  Lowered::Machine& m = out.machine[0];
  if (m.disp.symbol) return unsupported(instr, "two memory operands name symbols");
  m.disp = {&mem.symbol, mem.offset};
  switch (options_.model) {
    case Model::Go2012: {
      // ptr_abs keeps the SIB no-base form (48 8b 04 25); a plain ptr(abs) would become RIP-relative.
      const uint64_t at = address_of(mem.symbol) + static_cast<uint64_t>(mem.offset);
      if (!fits_go2012(at)) return unsupported(instr, out_of_reach(mem.symbol, mem.offset, at));
      m.push(x86::ptr_abs(at, mem.size));
      return Ok{};
    }
    case Model::Rip:
      m.push(x86::ptr(labels_.at(mem.symbol), static_cast<int32_t>(mem.offset), mem.size));
      return Ok{};
    case Model::Abs64: {
      if (!mov_to_reg) return unsupported(instr, "only a load into a register can reach a symbol through a 64-bit address");
      // The destination doubles as the address register: mov r64, imm64; mov r, [r64].
      x86::Gp scratch = x86::gpq(std::get<asmjit::Operand>(instr.operands[0]).id());
      Lowered::Machine& addr = out.machine[1];
      addr.id = x86::Inst::kIdMov;
      addr.push(scratch);
      addr.push(asmjit::Imm(address_of(mem.symbol) + static_cast<uint64_t>(mem.offset)));
      addr.long_form = true;
      addr.imm = m.disp;
      m.disp = {};
      m.push(x86::ptr(scratch, 0, mem.size));
      out.count = 2;
      return Ok{};
    }
  }
  return Ok{};
}

// $sym+off(SB) as a value: a CALL/JMP's rel32 to another symbol, or the address itself - an immediate
// (go2012, abs64) or a LEA (rip, Go's -shared rewrite).
Status Emitter::lower_address(const Instr& instr, const SymbolAddr& addr, bool mov_to_reg, Lowered::Machine& m) {
  if (is_branch(instr.id)) {  // placed by a relocation
    m.push(labels_.at(addr.symbol));
    m.imm = {&addr.symbol, addr.offset};
    m.long_form = m.branch = true;
    return Ok{};
  }
  if (m.imm.symbol) return unsupported(instr, "two immediates name symbols");
  const Lowered::Machine::Site site{&addr.symbol, addr.offset};
  switch (options_.model) {
    case Model::Go2012: {
      const uint64_t at = address_of(addr.symbol) + static_cast<uint64_t>(addr.offset);
      if (!fits_go2012(at)) return unsupported(instr, out_of_reach(addr.symbol, addr.offset, at));
      m.push(asmjit::Imm(at));
      m.imm = site;
      return Ok{};
    }
    case Model::Rip:
      // MOVQ/MOVL $sym, R becomes LEAQ/LEAL sym(SB), R.
      if (!mov_to_reg) return unsupported(instr, "a symbol's address can only be moved into a register");
      m.id = x86::Inst::kIdLea;
      m.push(x86::ptr(labels_.at(addr.symbol), static_cast<int32_t>(addr.offset)));
      m.disp = site;
      return Ok{};
    case Model::Abs64:
      if (!mov_to_reg) return unsupported(instr, "a symbol's address can only be moved into a register");
      if (std::get<asmjit::Operand>(instr.operands[0]).as<x86::Gp>().size() != 8)
        return unsupported(instr, fmt::format("a 32-bit destination cannot hold the 64-bit address of {}; a linker "
                                              "would stop with 'relocation truncated to fit'", addr.symbol));
      m.push(asmjit::Imm(address_of(addr.symbol) + static_cast<uint64_t>(addr.offset)));
      m.long_form = true;
      m.imm = site;
      return Ok{};
  }
  return Ok{};
}

inline Status Emitter::lower(const Instr& instr, Lowered& out) {
  Lowered::Machine& m = out.machine[0];  // built in place
  m.id = instr.id;
  out.count = 1;
  if (instr.operands.size() > Lowered::Machine::kMaxOps)
    return Error::at(instr.loc, fmt::format("more operands than any instruction has ({})", program_.source_text(instr.loc)));
  const bool mov_to_reg = instr.id == x86::Inst::kIdMov && !instr.operands.empty() &&
                          std::holds_alternative<asmjit::Operand>(instr.operands[0]) &&
                          std::get<asmjit::Operand>(instr.operands[0]).isReg();
  for (const Operand& op : instr.operands) {
    // A RIP-relative field holds 32 bits: an offset from a symbol beyond them is refused, never cut.
    const int64_t offset = std::holds_alternative<SymbolMem>(op) ? std::get<SymbolMem>(op).offset
                           : std::holds_alternative<SymbolAddr>(op) ? std::get<SymbolAddr>(op).offset : 0;
    if (offset < INT32_MIN || offset > INT32_MAX)
      return Error::at(instr.loc, fmt::format("the offset {:#x} from a symbol does not fit in 32 bits ({})", offset,
                                              program_.source_text(instr.loc)));
    if (auto* plain = std::get_if<asmjit::Operand>(&op)) {
      m.push(*plain);
    } else if (auto* label = std::get_if<CodeLabel>(&op)) {
      m.push(code_label(label->name));
    } else if (auto* mem = std::get_if<SymbolMem>(&op)) {
      if (auto s = lower_memory(instr, *mem, mov_to_reg, out); !s) return s;
    } else if (auto s = lower_address(instr, std::get<SymbolAddr>(op), mov_to_reg, m); !s) {
      return s;
    }
  }
  m.prefix = instr.prefix;
  m.reg_from_rm = instr.reg_from_rm;
  if (out.count == 2) std::swap(out.machine[0], out.machine[1]);  // the abs64 address move goes first
  return Ok{};
}

Status Emitter::encode(const Lowered::Machine& m, int program_index, const SourceLoc& loc) {
  const size_t start = code_.textSection()->buffer().size();
  if (m.long_form) a_->long_();
  if (program_index >= 0 && (all_short_ ? relaxes(m) : static_cast<size_t>(program_index) < short_branches_.size() &&
                                                          short_branches_[static_cast<size_t>(program_index)]))
    a_->short_();
  if (m.reg_from_rm) a_->mod_rm();
  switch (m.prefix) {
    case Prefix::None: break;
    case Prefix::Rep: a_->rep(); break;
    case Prefix::Repne: a_->repne(); break;
    case Prefix::Lock: a_->lock(); break;
  }
  asmjit::Error err = a_->emitOpArray(m.id, m.ops, m.op_count);
  if (err) return asm_error(err, loc, program_index >= 0 ? program_.source_text(loc) : "the frame adjustment");
  const asmjit::CodeBuffer& buf = code_.textSection()->buffer();
  const auto length = static_cast<uint32_t>(buf.size() - start);
  image_.instrs.push_back(InstrInfo{static_cast<uint32_t>(start), length, program_index, loc,
                                    program_index < 0 ? InstrOrigin::Linker : InstrOrigin::Program});
  if (program_index >= 0 && m.id != x86::Inst::kIdCall && !m.branch)
    for (uint32_t k = 0; k < m.op_count; ++k)
      if (m.ops[k].isLabel()) branches_.push_back({program_index, m.ops[k].as<asmjit::Label>(), static_cast<uint32_t>(start), length});

  if (!m.disp.symbol && !m.imm.symbol) return Ok{};
  // Where the address fields lie: Zydis reads the encoding (no text, no analysis: decode_fields).
  const FieldsOnly decoded = decode_fields({buf.data() + start, length});
  for (const bool in_imm : {false, true}) {  // in field order: the displacement comes first
    const Lowered::Machine::Site& site = in_imm ? m.imm : m.disp;
    if (!site.symbol) continue;
    const Field field = in_imm ? decoded.imm : decoded.disp;
    if (!field.present() || field.size < 4) {
      auto text = decode_one({buf.data() + start, length}, layout_.code_address + start);
      return Error::at(loc, fmt::format("the encoding of '{}' has no 32/64-bit {} field for {}",
                                        text ? text->text : "(undecodable)", in_imm ? "immediate" : "displacement",
                                        *site.symbol));
    }
    Relocation r;
    r.symbol = *site.symbol;
    r.addend = site.addend;
    r.instr_end = static_cast<uint32_t>(start + length);
    r.offset = static_cast<uint32_t>(start + static_cast<size_t>(field.offset));
    if (options_.model == Model::Rip || m.branch) r.kind = RelocKind::Rel32;
    else if (field.size == 8) r.kind = RelocKind::Abs64;
    else if (in_imm && !(decoded.imm_signed && decoded.operand_width == 64)) r.kind = RelocKind::Abs32;
    else r.kind = RelocKind::Abs32S;
    image_.relocations.push_back(std::move(r));
  }
  return Ok{};
}

Status Emitter::emit_frame_adjust(asmjit::InstId id, const FunctionView& function) {
  Lowered::Machine m;
  m.id = id;
  m.push(x86::rsp);
  m.push(asmjit::Imm(function.declared_frame));
  return encode(m, -1, *function.loc);
}

// Go's linker: a declared $N frame means sub rsp, N at entry and add rsp, N before every RET. A linked
// Program's functions each start with their label and have their own frame.
Status Emitter::emit_body() {
  const size_t functions = program_.function_count();
  size_t next = 0;
  std::optional<FunctionView> current;
  for (size_t i = 0; i <= program_.instrs.size(); ++i) {
    for (; next < functions && program_.function(next).first_instr == i; ++next) {
      current = program_.function(next);
      function_starts_.push_back(static_cast<uint32_t>(code_.textSection()->buffer().size()));
      if (!program_.functions.empty())
        if (asmjit::Error err = a_->bind(code_label(*current->symbol))) return asm_error(err, *current->loc, *current->symbol);
      if (current->declared_frame > 0)
        if (auto s = emit_frame_adjust(x86::Inst::kIdSub, *current); !s) return s;
    }
    if (i == program_.instrs.size()) break;
    const Instr& instr = program_.instrs[i];
    if (const CodeLabel* label = instr.bound_label()) {
      if (asmjit::Error err = a_->bind(code_label(label->name))) return asm_error(err, instr.loc, label->name);
      continue;
    }
    if (!instr.raw.empty()) {  // BYTE/WORD/LONG/QUAD: the bytes as written
      const auto start = static_cast<uint32_t>(code_.textSection()->buffer().size());
      if (asmjit::Error err = a_->embed(instr.raw.data(), instr.raw.size())) return asm_error(err, instr.loc, "raw bytes");
      image_.instrs.push_back(InstrInfo{start, static_cast<uint32_t>(instr.raw.size()), static_cast<int>(i), instr.loc,
                                        InstrOrigin::Program});
      continue;
    }
    if (instr.id == x86::Inst::kIdRet && current && current->declared_frame > 0)
      if (auto s = emit_frame_adjust(x86::Inst::kIdAdd, *current); !s) return s;
    Lowered lowered;
    if (auto s = lower(instr, lowered); !s) return s;
    for (uint32_t k = 0; k < lowered.count; ++k)
      if (auto s = encode(lowered.machine[k], static_cast<int>(i), instr.loc); !s) return s;
  }
  return Ok{};
}

// The jumps to labels, on this pass's layout: instruction lengths do not depend on where they stand, only
// the jumps' do (relax_p.hpp).
void Emitter::find_relaxable() {
  if (branches_.empty()) return;
  const auto& instrs = image_.instrs;
  // The first instruction at an offset (the map is in offset order); instrs.size() when none.
  auto item_at = [&](uint32_t offset) {
    auto it = std::lower_bound(instrs.begin(), instrs.end(), offset,
                               [](const InstrInfo& info, uint32_t at) { return info.offset < at; });
    return it != instrs.end() && it->offset == offset ? static_cast<size_t>(it - instrs.begin()) : instrs.size();
  };
  std::vector<RelaxJump> jumps;
  std::vector<int> jump_index;  // each jump's program index
  for (const Branch& b : branches_) {
    const asmjit::InstId id = program_.instrs[static_cast<size_t>(b.program_index)].id;
    if (!relaxes(id)) continue;
    if (!code_.isLabelBound(b.label)) continue;
    const auto target = static_cast<uint32_t>(code_.labelOffset(b.label));
    jumps.push_back({item_at(b.offset), item_at(target), id == x86::Inst::kIdJmp ? 5u : 6u});
    jump_index.push_back(b.program_index);
  }
  std::vector<uint32_t> length(instrs.size());
  for (size_t k = 0; k < instrs.size(); ++k) length[k] = instrs[k].length;
  for (const RelaxJump& j : jumps) length[j.item] = 2;
  const std::vector<bool> short_form = relax_jumps(length, jumps);
  for (size_t k = 0; k < jumps.size(); ++k) {
    if (short_form[k] != (instrs[jumps[k].item].length == 2)) settled_ = false;
    if (!short_form[k]) continue;
    if (relaxable_.empty()) relaxable_.assign(program_.instrs.size(), false);  // empty: none (as pass 0's)
    relaxable_[static_cast<size_t>(jump_index[k])] = true;
  }
}

// DESIGN.md's rip layout: code, 0xCC up to an 8-byte boundary, the import slots, then the data.
void Emitter::append_rip_data() {
  while (code_.textSection()->buffer().size() % 8) a_->int3();
  for (const Import& i : program_.imports) {
    a_->align(asmjit::AlignMode::kZero, 8);
    a_->bind(labels_.at(i.symbol));
    a_->embedUInt64(0);
  }
  for (const DataSymbol& d : program_.data) {
    a_->align(asmjit::AlignMode::kZero, d.align);
    a_->bind(labels_.at(d.symbol));
    a_->embed(d.bytes.data(), d.bytes.size());
  }
}

// The absolute models' data section: every import slot and data symbol at its layout address.
Status Emitter::build_data_section() {
  uint64_t end = layout_.data_address;
  for (const Symbol& s : image_.symbols)
    if (s.kind != SymbolKind::Code) end = std::max(end, s.address + s.size);
  image_.data = Section{".data", layout_.data_address, std::vector<uint8_t>(end - layout_.data_address, 0)};
  for (const DataSymbol& d : program_.data)
    std::copy(d.bytes.begin(), d.bytes.end(), image_.data.bytes.begin() + (address_of(d.symbol) - layout_.data_address));
  const uint64_t code_end = layout_.code_address + image_.text.bytes.size();
  if (layout_.data_address < code_end && layout_.code_address < end)
    return Error::at(program_.loc, fmt::format("code at {:#x}..{:#x} overlaps data at {:#x}..{:#x}",
                                               layout_.code_address, code_end, layout_.data_address, end));
  return Ok{};
}

Status Emitter::run() {
  asmjit::Environment env(asmjit::Arch::kX64);
  code_.reset(asmjit::ResetPolicy::kSoft);
  if (asmjit::Error err = code_.init(env, layout_.code_address)) return asm_error(err, program_.loc, "the stub");
  x86::Assembler assembler(&code_);
  a_ = &assembler;
  if (options_.policy == Policy::Size) a_->addEncodingOptions(asmjit::EncodingOptions::kOptimizeForSize);
  if (options_.model == Model::Rip) {
    for (const Import& i : program_.imports) labels_[i.symbol] = a_->newLabel();
    for (const DataSymbol& d : program_.data) labels_[d.symbol] = a_->newLabel();
  }
  // Externals: a label at the code's start stands for each (rip fields and branches reach it; the
  // relocation puts the real target there when the Image is placed).
  for (const std::string& e : program_.externals) {
    labels_[e] = a_->newLabel();
    a_->bind(labels_[e]);
  }
  if (!program_.functions.empty()) code_labels_.reserve(2 * program_.functions.size());  // else: none for a stub without labels
  for (const Function& f : program_.functions) labels_[f.symbol] = code_label(f.symbol);
  function_starts_.reserve(program_.function_count());
  image_.instrs.reserve(program_.instrs.size() + 2 * program_.function_count());  // with each function's $N sub/add
  image_.relocations.reserve(program_.instrs.size());
  if (auto s = emit_body(); !s) return s;
  image_.code_size = static_cast<uint32_t>(code_.textSection()->buffer().size());
  find_relaxable();
  if (options_.model == Model::Rip) append_rip_data();
  if (code_.hasUnresolvedLinks()) return Error::at(program_.loc, "unresolved label references remain");

  const asmjit::CodeBuffer& buf = code_.textSection()->buffer();
  image_.text = Section{".text", layout_.code_address, {buf.data(), buf.data() + buf.size()}};
  const size_t functions = program_.function_count();
  image_.symbols.reserve(functions + program_.externals.size() + program_.imports.size() + program_.data.size());
  for (size_t k = 0; k < functions; ++k) {
    const uint32_t end = k + 1 < functions ? function_starts_[k + 1] : image_.code_size;
    image_.symbols.push_back(Symbol{*program_.function(k).symbol, SymbolKind::Code, layout_.code_address + function_starts_[k],
                                    end - function_starts_[k], {}, {}, {}});
  }
  auto symbol_address = [&](const std::string& symbol) {
    return options_.model == Model::Rip ? layout_.code_address + code_.labelOffset(labels_.at(symbol))
                                        : address_of(symbol);
  };
  for (const std::string& e : program_.externals) image_.symbols.push_back(Symbol{e, SymbolKind::External, 0, 0, {}, {}, {}});
  for (const Import& i : program_.imports)
    image_.symbols.push_back(Symbol{i.symbol, SymbolKind::Import, symbol_address(i.symbol), 8, i.dll, i.function, i.signature});
  for (const DataSymbol& d : program_.data)
    image_.symbols.push_back(Symbol{d.symbol, SymbolKind::Data, symbol_address(d.symbol),
                                    static_cast<uint32_t>(d.bytes.size()), {}, {}, {}});
  if (options_.model != Model::Rip && !layout_.addresses.empty())
    if (auto s = build_data_section(); !s) return s;
  return resolve_functions();
}

// Fields that hold a function's address (MOVQ $f(SB), AX; CALL f+8(SB)) now that the code is laid out; the
// relocations stay, so the Image can still be placed elsewhere.
Status Emitter::resolve_functions() {
  if (program_.functions.empty()) return Ok{};
  std::map<std::string_view, uint64_t> address;
  for (const Symbol& s : image_.symbols)
    if (s.kind == SymbolKind::Code) address.emplace(s.name, s.address);
  for (const Relocation& r : image_.relocations) {
    auto function = address.find(r.symbol);
    if (function == address.end()) continue;
    if (auto s = apply_relocation(image_.text.bytes, image_.text.address, r, function->second); !s)
      return Error::at(program_.loc, fmt::format("{}: {}", r.symbol, s.error().message));
  }
  return Ok{};
}

// The encoded Image, described: its names, model, unwind data and source.
Status finish(const Program& program, const EmitOptions& options, const Layout& layout, Image& image) {
  if (image.text.bytes.size() > kUserSpaceEnd - layout.code_address)  // plan_layout: it starts below
    return Error::at(program.loc, fmt::format("code at {:#x}..{:#x} reaches past user space's end ({:#x})",
                                              layout.code_address, layout.code_address + image.text.bytes.size(),
                                              kUserSpaceEnd));
  image.stub = options.stub.empty() ? program.symbol : options.stub;
  image.symbol = program.symbol;
  image.model = options.model;
  image.policy = options.policy;
  image.declared_frame = program.declared_frame;
  image.data_align = static_cast<uint32_t>(layout.data_align);
  // Unwind data when the code allows it; derive_unwind says why not (w64stub unwind shows it).
  if (auto unwind = derive_unwind(image)) image.unwind = unwind->encode();
  image.source_lines = program.source_lines;
  image.first_line = program.first_line;
  image.source_file = program.source_file;
  return Ok{};
}

}  // namespace

Expected<Image> emit(const Program& program, const EmitOptions& options) {
  if (auto s = program.check_symbols(); !s) return s.error();
  auto layout = plan_layout(program, options.model, options.addresses);
  if (!layout) return Error::at(program.loc, layout.error().message);

  // GNU as's relaxation starts with every jump to a label short and grows those that do not reach. Most
  // functions' jumps all reach: one pass with them all short is then the relaxed code (settled() checks it).
  // Else, as before: once with them long to learn the layout, once more with those that stay short -
  // unless the first already has them so (a function whose short jumps all go back).
  Image image;
  std::vector<bool> short_branches;
  bool relaxed = false;
  if (Emitter emitter(program, options, *layout, short_branches, true, image); emitter.run() && emitter.settled())
    relaxed = true;
  for (int pass = 0; pass < 2 && !relaxed; ++pass) {
    image = Image{};
    Emitter emitter(program, options, *layout, short_branches, false, image);
    if (auto s = emitter.run(); !s) return s.error();
    relaxed = emitter.settled() || emitter.relaxable() == short_branches;
    short_branches = emitter.relaxable();
  }
  if (auto s = finish(program, options, *layout, image); !s) return s.error();
  return image;
}

}  // namespace w64stub
