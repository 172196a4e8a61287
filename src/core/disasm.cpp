#include "w64stub/core/disasm.hpp"

#include "w64stub/core/byte_cache.hpp"

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

// Control flow and the stack, from Zydis' operand list: what frame analysis follows.
void describe_flow(const ZydisDecodedInstruction& instr, const ZydisDecodedOperand* operands, uint64_t address,
                   Decoded& d) {
  switch (instr.meta.category) {
    case ZYDIS_CATEGORY_UNCOND_BR: d.flow = Flow::Jump; break;
    case ZYDIS_CATEGORY_COND_BR: d.flow = Flow::Branch; break;
    case ZYDIS_CATEGORY_CALL: d.flow = Flow::Call; break;
    case ZYDIS_CATEGORY_RET: d.flow = Flow::Return; break;
    default:
      if (instr.mnemonic == ZYDIS_MNEMONIC_INT3 || instr.mnemonic == ZYDIS_MNEMONIC_HLT ||
          instr.mnemonic == ZYDIS_MNEMONIC_UD2)
        d.flow = Flow::Stop;
  }
  ZyanU64 target = 0;
  if (d.flow != Flow::Next && instr.operand_count_visible > 0 && operands[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
      operands[0].imm.is_relative && ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&instr, &operands[0], address, &target)))
    d.target = target;

  const ZydisDecodedOperand& first = operands[0];
  const bool to_rsp = instr.operand_count_visible >= 2 && first.type == ZYDIS_OPERAND_TYPE_REGISTER &&
                      first.reg.value == ZYDIS_REGISTER_RSP;
  const ZydisDecodedOperand& second = operands[1];
  switch (instr.mnemonic) {
    case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_PUSHFQ: d.rsp_down = instr.operand_width / 8; return;
    case ZYDIS_MNEMONIC_POP: case ZYDIS_MNEMONIC_POPFQ: d.rsp_down = -(instr.operand_width / 8); return;
    case ZYDIS_MNEMONIC_CALL: case ZYDIS_MNEMONIC_RET: return;
    case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_ADD:
      if (to_rsp && second.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        d.rsp_down = instr.mnemonic == ZYDIS_MNEMONIC_SUB ? second.imm.value.s : -second.imm.value.s;
        return;
      }
      break;
    case ZYDIS_MNEMONIC_LEA:
      if (to_rsp && second.mem.base == ZYDIS_REGISTER_RSP && second.mem.index == ZYDIS_REGISTER_NONE) {
        d.rsp_down = -second.mem.disp.value;
        return;
      }
      break;
    default: break;
  }
  for (ZyanU8 i = 0; i < instr.operand_count; ++i) {
    const ZydisDecodedOperand& op = operands[i];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && op.reg.value == ZYDIS_REGISTER_RSP &&
        (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
      d.rsp_untracked = true;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
        (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && op.mem.base == ZYDIS_REGISTER_RSP &&
        op.mem.index == ZYDIS_REGISTER_NONE)
      d.rsp_store = op.mem.disp.value;
  }
}

}  // namespace

FieldsOnly decode_fields(std::span<const uint8_t> bytes) {
  static const ZydisDecoder decoder = [] {
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    return d;
  }();
  ByteCache<FieldsOnly>& cache = thread_byte_cache<FieldsOnly>();  // emitting the same stub again
  if (const FieldsOnly* hit = cache.find(bytes)) return *hit;
  ZydisDecoderContext context;
  ZydisDecodedInstruction instr;
  FieldsOnly f;
  if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&decoder, &context, bytes.data(), bytes.size(), &instr))) return f;
  f.length = instr.length;
  f.operand_width = instr.operand_width;
  if (instr.raw.disp.size) f.disp = {instr.raw.disp.offset, instr.raw.disp.size / 8};
  if (instr.raw.imm[0].size) {
    f.imm = {instr.raw.imm[0].offset, instr.raw.imm[0].size / 8};
    f.imm_signed = instr.raw.imm[0].is_signed;
  }
  cache.put(bytes, f);
  return f;
}

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
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
      d.memory = op.mem.type == ZYDIS_MEMOP_TYPE_AGEN               ? MemoryUse::AddressOnly
                 : (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) ? MemoryUse::Written
                                                                    : MemoryUse::Read;
    if (op.type != ZYDIS_OPERAND_TYPE_REGISTER || !(op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
    std::string reg = full_register_name(op.reg.value);
    if (!reg.empty() && std::find(d.writes.begin(), d.writes.end(), reg) == d.writes.end()) d.writes.push_back(reg);
  }
  if (instr.cpu_flags) {
    const ZydisAccessedFlags& f = *instr.cpu_flags;
    d.writes_df = ((f.modified | f.set_0 | f.set_1 | f.undefined) & ZYDIS_CPUFLAG_DF) && !(f.set_0 & ZYDIS_CPUFLAG_DF);
  }
  describe_flow(instr, operands, address, d);
  return d;
}

}  // namespace w64stub
