// derive_unwind: the prolog of an Image's code as unwind codes, and every other RSP change checked to be a
// canonical epilog.
#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/win/unwind.hpp"
#include "insn_p.hpp"

namespace w64stub {

namespace {

// A decoded instruction where it stands: offsets from the function's start, as unwind codes count them.
struct Placed : unwind_detail::Insn {
  uint32_t offset = 0, end = 0;
  const InstrInfo* info = nullptr;  // the instruction map's entry: its bytes and source line
};

constexpr int64_t kMaxNearScaled = 0xFFFF;  // the near save forms hold offset/8 or offset/16 in 16 bits

uint8_t gp_number(ZydisRegister r) { return static_cast<uint8_t>(ZydisRegisterGetId(r)); }

bool nonvolatile_gp(ZydisRegister r) {
  return ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR64 && win64::is_nonvolatile_gp(gp_number(r));
}

std::string where(const Image& image, const Placed& in) {
  // Intel text, for messages only: decoded again when one is written.
  auto decoded = decode_one({image.text.bytes.data() + in.info->offset, in.info->length}, image.text.address + in.info->offset);
  const std::string text = decoded ? decoded->text : "(undecodable)";
  const SourceLoc& loc = in.info->loc;
  return loc.line > 0 ? fmt::format("{} (+{:#x} {})", loc.str(), in.offset, text) : fmt::format("+{:#x} ({})", in.offset, text);
}

class Deriver {
 public:
  // The function of `size` bytes at `begin` in the text, named `name` in messages.
  Deriver(const Image& image, std::string_view name, uint64_t begin, uint64_t size)
      : image_(image), name_(name), begin_(begin), size_(size) {}
  Expected<UnwindInfo> run();

 private:
  Status decode_all();
  size_t prolog();  // how many instructions it spans
  Status prolog_step(const Placed& in, bool* taken);
  Status body(size_t from);
  // The canonical epilog that begins at instruction k: how many instructions it spans, or an error.
  Expected<size_t> epilog(size_t k) const;
  Error refuse(const Placed& in, std::string why) const {
    return Error{fmt::format("{}: {}: {}; Win64 unwind data cannot describe it", name_, where(image_, in), why)};
  }

  const Image& image_;
  std::string_view name_;   // of the function whose bytes are described
  uint64_t begin_, size_;    // its bytes in the text
  std::vector<Placed> insns_;
  UnwindInfo info_;
  std::vector<ZydisRegister> pushed_;  // in push order
  int64_t allocated_ = 0;              // bytes of sub rsp
  int64_t below_fp_ = 0;               // bytes pushed or allocated after the frame pointer was set
  int64_t fp_depth_ = 0;               // how far below the entry RSP the frame pointer points
  bool fp_set_ = false, saved_ = false;
  ZydisRegister fp_ = ZYDIS_REGISTER_NONE;
  std::optional<uint64_t> rax_;        // mov rax, imm in the prolog, for sub rsp, rax
  Status prolog_error_ = Ok{};
};

Status Deriver::decode_all() {
  const uint64_t begin = begin_, end = begin + size_;
  // The function's instructions: the map is in offset order, so a linked Image's other functions cost nothing.
  auto first = std::lower_bound(image_.instrs.begin(), image_.instrs.end(), begin,
                                [](const InstrInfo& info, uint64_t offset) { return info.offset < offset; });
  auto last = std::lower_bound(first, image_.instrs.end(), end,
                               [](const InstrInfo& info, uint64_t offset) { return info.offset < offset; });
  insns_.resize(static_cast<size_t>(last - first));
  for (size_t k = 0; k < insns_.size(); ++k) {
    const InstrInfo& info = first[static_cast<ptrdiff_t>(k)];
    Placed& in = insns_[k];
    in.offset = static_cast<uint32_t>(info.offset - begin);
    in.end = in.offset + info.length;
    in.info = &info;
    if (!unwind_detail::decode_insn({image_.text.bytes.data() + info.offset, info.length}, in))
      return Error{fmt::format("{}: +{:#x}: no valid instruction", name_, in.offset)};
  }
  return Ok{};
}

// One prolog instruction: *taken when it is one; an error when it is one that cannot be described.
Status Deriver::prolog_step(const Placed& in, bool* taken) {
  *taken = true;
  const auto end = static_cast<uint8_t>(std::min<uint32_t>(in.end, 255));
  auto add = [&](UnwindOp op, uint8_t reg, uint32_t value) { info_.codes.push_back({end, op, reg, value}); };
  auto alloc = [&](uint64_t size) -> Status {
    if (saved_) return refuse(in, "an allocation after a register save moves the frame base the save is relative to");
    if (size % 8 || size == 0 || size > 0xFFFFFFF8) return refuse(in, fmt::format("an allocation of {:#x} bytes", size));
    add(size <= 128 ? UnwindOp::AllocSmall : UnwindOp::AllocLarge, 0, static_cast<uint32_t>(size));
    allocated_ += static_cast<int64_t>(size);
    if (fp_set_) below_fp_ += static_cast<int64_t>(size);
    return Ok{};
  };
  // Saves are relative to the frame base: RSP after the prolog, or the frame pointer less its offset.
  auto save = [&](int64_t disp, uint32_t scale, UnwindOp near_op, UnwindOp far_op, uint8_t reg) -> Status {
    const int64_t from_base = disp - (fp_set_ ? below_fp_ : 0);
    if (from_base < 0 || from_base % scale)
      return refuse(in, fmt::format("a save at {} from the frame base (not a non-negative multiple of {})", from_base, scale));
    add(from_base / scale <= kMaxNearScaled ? near_op : far_op, reg, static_cast<uint32_t>(from_base));
    saved_ = true;
    return Ok{};
  };
  const ZydisMnemonic m = in.mnemonic;
  if (m == ZYDIS_MNEMONIC_PUSH && in.is_reg(0) && nonvolatile_gp(in.ops[0].reg) && allocated_ == 0 && !saved_) {
    add(UnwindOp::PushNonvol, gp_number(in.ops[0].reg), 0);
    pushed_.push_back(in.ops[0].reg);
    if (fp_set_) below_fp_ += 8;
    return Ok{};
  }
  if (m == ZYDIS_MNEMONIC_SUB && in.reg(0, ZYDIS_REGISTER_RSP) && in.is_imm(1)) return alloc(in.ops[1].imm);
  if (m == ZYDIS_MNEMONIC_SUB && in.reg(0, ZYDIS_REGISTER_RSP) && in.reg(1, ZYDIS_REGISTER_RAX) && rax_) return alloc(*rax_);
  if (m == ZYDIS_MNEMONIC_MOV && (in.reg(0, ZYDIS_REGISTER_RAX) || in.reg(0, ZYDIS_REGISTER_EAX)) && in.is_imm(1)) {
    rax_ = in.reg(0, ZYDIS_REGISTER_EAX) ? static_cast<uint32_t>(in.ops[1].imm) : in.ops[1].imm;
    return Ok{};
  }
  const bool set_fp = (m == ZYDIS_MNEMONIC_LEA && in.is_reg(0) && in.mem_on(1, ZYDIS_REGISTER_RSP)) ||
                      (m == ZYDIS_MNEMONIC_MOV && in.is_reg(0) && in.reg(1, ZYDIS_REGISTER_RSP));
  if (set_fp && nonvolatile_gp(in.ops[0].reg) && !fp_set_) {
    const int64_t offset = m == ZYDIS_MNEMONIC_LEA ? *in.mem_on(1, ZYDIS_REGISTER_RSP) : 0;
    if (offset < 0 || offset > 240 || offset % 16)
      return refuse(in, fmt::format("a frame pointer at RSP{:+#x} (it must be RSP plus 0 to 240 in steps of 16)", offset));
    fp_set_ = true;
    fp_ = in.ops[0].reg;
    info_.frame_register = gp_number(fp_);
    info_.frame_offset = static_cast<uint8_t>(offset);
    below_fp_ = 0;  // the frame base is RSP here; what is pushed or allocated later lies below it
    fp_depth_ = static_cast<int64_t>(pushed_.size()) * 8 + allocated_ - offset;
    add(UnwindOp::SetFpreg, 0, 0);
    return Ok{};
  }
  if (m == ZYDIS_MNEMONIC_MOV && in.mem_on(0, ZYDIS_REGISTER_RSP) && in.is_reg(1) && nonvolatile_gp(in.ops[1].reg))
    return save(*in.mem_on(0, ZYDIS_REGISTER_RSP), 8, UnwindOp::SaveNonvol, UnwindOp::SaveNonvolFar, gp_number(in.ops[1].reg));
  const bool vector_store = m == ZYDIS_MNEMONIC_MOVAPS || m == ZYDIS_MNEMONIC_MOVUPS || m == ZYDIS_MNEMONIC_MOVDQA ||
                            m == ZYDIS_MNEMONIC_MOVDQU;
  if (vector_store && in.mem_on(0, ZYDIS_REGISTER_RSP) && in.is_reg(1) &&
      ZydisRegisterGetClass(in.ops[1].reg) == ZYDIS_REGCLASS_XMM &&
      ZydisRegisterGetId(in.ops[1].reg) >= win64::kFirstNonvolatileXmm)
    return save(*in.mem_on(0, ZYDIS_REGISTER_RSP), 16, UnwindOp::SaveXmm128, UnwindOp::SaveXmm128Far,
                static_cast<uint8_t>(ZydisRegisterGetId(in.ops[1].reg)));
  *taken = false;
  return Ok{};
}


size_t Deriver::prolog() {
  size_t k = 0;
  for (; k < insns_.size(); ++k) {
    bool taken = false;
    const size_t codes = info_.codes.size();
    if (auto st = prolog_step(insns_[k], &taken); !st) {
      prolog_error_ = st;
      return k;
    }
    if (!taken) break;
    if (info_.codes.size() != codes) info_.prolog_size = static_cast<uint8_t>(std::min<uint32_t>(insns_[k].end, 255));
  }
  return k;
}

Expected<size_t> Deriver::epilog(size_t k) const {
  auto fail = [&](const Placed& in) -> Error {  // the canonical epilog spelled only for the message
    std::string want;
    if (allocated_) want = fp_set_ ? fmt::format("lea rsp, [r{}{:+#x}] or add rsp, {:#x}; ", info_.frame_register,
                                                 fp_depth_ - static_cast<int64_t>(pushed_.size()) * 8, allocated_)
                                   : fmt::format("add rsp, {:#x}; ", allocated_);
    for (auto r = pushed_.rbegin(); r != pushed_.rend(); ++r) want += fmt::format("pop {}; ", ZydisRegisterGetString(*r));
    want += "ret";
    return refuse(in, fmt::format("RSP changes after the prolog here, and not as the canonical epilog ({})", want));
  };
  size_t j = k;
  if (allocated_) {
    const Placed& in = insns_[j];
    const bool add = in.mnemonic == ZYDIS_MNEMONIC_ADD && in.reg(0, ZYDIS_REGISTER_RSP) && in.is_imm(1) &&
                     static_cast<int64_t>(in.ops[1].imm) == allocated_;
    const bool lea = fp_set_ && in.mnemonic == ZYDIS_MNEMONIC_LEA && in.reg(0, ZYDIS_REGISTER_RSP) &&
                     in.mem_on(1, fp_) == fp_depth_ - static_cast<int64_t>(pushed_.size()) * 8;
    // An allocation too large for an immediate is given back through RAX: the unwinder still sees the body
    // until the add, and the ret after it.
    const Placed* before = k > 0 ? &insns_[k - 1] : nullptr;
    const bool through_rax = in.mnemonic == ZYDIS_MNEMONIC_ADD && in.reg(0, ZYDIS_REGISTER_RSP) &&
                             in.reg(1, ZYDIS_REGISTER_RAX) && before && before->mnemonic == ZYDIS_MNEMONIC_MOV &&
                             (before->reg(0, ZYDIS_REGISTER_EAX) || before->reg(0, ZYDIS_REGISTER_RAX)) &&
                             before->is_imm(1) &&
                             (before->reg(0, ZYDIS_REGISTER_EAX) ? static_cast<uint32_t>(before->ops[1].imm)
                                                                  : before->ops[1].imm) == static_cast<uint64_t>(allocated_);
    if (!add && !lea && !through_rax) return fail(in);
    ++j;
  }
  for (auto r = pushed_.rbegin(); r != pushed_.rend(); ++r, ++j)
    if (j >= insns_.size() || insns_[j].mnemonic != ZYDIS_MNEMONIC_POP || !insns_[j].reg(0, *r))
      return fail(insns_[std::min(j, insns_.size() - 1)]);
  if (j >= insns_.size() || (insns_[j].mnemonic != ZYDIS_MNEMONIC_RET && insns_[j].mnemonic != ZYDIS_MNEMONIC_JMP))
    return fail(insns_[std::min(j, insns_.size() - 1)]);
  if (insns_[j].mnemonic == ZYDIS_MNEMONIC_RET && insns_[j].is_imm(0) && insns_[j].ops[0].imm != 0)
    return fail(insns_[j]);
  return j + 1 - k;
}

Status Deriver::body(size_t from) {
  for (size_t k = from; k < insns_.size();) {
    const Placed& in = insns_[k];
    const ZydisMnemonic m = in.mnemonic;
    if (m == ZYDIS_MNEMONIC_CALL) {
      ++k;
      continue;
    }
    const bool framed = allocated_ || !pushed_.empty();
    if (in.writes_rsp || (m == ZYDIS_MNEMONIC_RET && (framed || (in.is_imm(0) && in.ops[0].imm != 0)))) {
      auto span = epilog(k);
      if (!span) return span.error();
      k += *span;
      continue;
    }
    ++k;
  }
  return Ok{};
}

Expected<UnwindInfo> Deriver::run() {
  if (auto st = decode_all(); !st) return st.error();
  const size_t body_start = prolog();
  if (!prolog_error_) return prolog_error_.error();
  if (body_start < insns_.size() && insns_[body_start].end > 255 && info_.prolog_size == 255)
    return refuse(insns_[body_start], "a prolog longer than 255 bytes");
  if (auto st = body(body_start); !st) return st.error();
  return std::move(info_);
}

}  // namespace

Expected<UnwindInfo> derive_unwind(const Image& image, const Symbol& function) {
  const uint64_t offset = function.address - image.text.address;  // checked against wrapping: image files
  if (function.kind != SymbolKind::Code || function.address < image.text.address || offset > image.text.bytes.size() ||
      function.size > image.text.bytes.size() - offset)
    return Error{fmt::format("{}: not a function of {}'s code", function.name, image.symbol)};
  return Deriver(image, function.name, offset, function.size).run();
}

Expected<UnwindInfo> derive_unwind(const Image& image) {
  return Deriver(image, image.symbol, 0, image.entry_size()).run();
}

}  // namespace w64stub
