#include "w64stub/core/disasm.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>

namespace w64stub {

namespace {

// "rsi" for any write to rsi/esi/si/sil, "xmm7" for any to xmm7/ymm7/zmm7; "" for what is not a GPR or vector.
std::string full_register_name(ZydisRegister reg) {
  switch (ZydisRegisterGetClass(reg)) {
    case ZYDIS_REGCLASS_GPR8:
    case ZYDIS_REGCLASS_GPR16:
    case ZYDIS_REGCLASS_GPR32:
    case ZYDIS_REGCLASS_GPR64:
      return ZydisRegisterGetString(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg));
    case ZYDIS_REGCLASS_XMM:
    case ZYDIS_REGCLASS_YMM:
    case ZYDIS_REGCLASS_ZMM:
      return fmt::format("xmm{}", ZydisRegisterGetId(reg));
    default:
      return {};
  }
}

}  // namespace

Expected<Decoded> decode_one(std::span<const uint8_t> bytes, uint64_t address) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecodedInstruction instr;
  ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
  if (ZYAN_FAILED(ZydisDecoderDecodeFull(&decoder, bytes.data(), bytes.size(), &instr, operands)))
    return Error{fmt::format("no valid instruction at {:#x}", address)};

  ZydisFormatter formatter;
  ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL);
  char text[256];
  if (ZYAN_FAILED(ZydisFormatterFormatInstruction(&formatter, &instr, operands, instr.operand_count_visible, text,
                                                  sizeof text, address, nullptr)))
    return Error{fmt::format("cannot format the instruction at {:#x}", address)};

  Decoded d;
  d.length = instr.length;
  d.text = text;
  d.operand_width = instr.operand_width;
  d.rip_relative = (instr.attributes & ZYDIS_ATTRIB_IS_RELATIVE) != 0;
  if (instr.raw.disp.size) d.disp = {instr.raw.disp.offset, instr.raw.disp.size / 8};
  if (instr.raw.imm[0].size) {
    d.imm = {instr.raw.imm[0].offset, instr.raw.imm[0].size / 8};
    d.imm_signed = instr.raw.imm[0].is_signed;
  }
  for (ZyanU8 i = 0; i < instr.operand_count; ++i) {
    const ZydisDecodedOperand& op = operands[i];
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER || !(op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
    std::string reg = full_register_name(op.reg.value);
    if (!reg.empty() && std::find(d.writes.begin(), d.writes.end(), reg) == d.writes.end()) d.writes.push_back(reg);
  }
  if (instr.cpu_flags) {
    const ZydisAccessedFlags& f = *instr.cpu_flags;
    d.writes_df = ((f.modified | f.set_0 | f.set_1 | f.undefined) & ZYDIS_CPUFLAG_DF) && !(f.set_0 & ZYDIS_CPUFLAG_DF);
  }
  return d;
}

}  // namespace w64stub
