#include "insn_p.hpp"

#include "w64stub/core/byte_cache.hpp"

namespace w64stub::unwind_detail {

std::optional<Insn> decode_insn_uncached(std::span<const uint8_t> bytes) {
  static const ZydisDecoder decoder = [] {
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    return d;
  }();
  ZydisDecodedInstruction i;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (ZYAN_FAILED(ZydisDecoderDecodeFull(&decoder, bytes.data(), bytes.size(), &i, ops)))
    return std::nullopt;
  Insn in;
  in.mnemonic = i.mnemonic;
  in.visible = i.operand_count_visible;
  for (ZyanU8 k = 0; k < i.operand_count; ++k) {
    const ZydisDecodedOperand& op = ops[k];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && op.reg.value == ZYDIS_REGISTER_RSP &&
        (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
      in.writes_rsp = true;
    if (!in.kept(k)) continue;
    Insn::Op& o = in.ops[k];
    o.type = op.type;
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) o.reg = op.reg.value;
    if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) o.imm = op.imm.value.u;
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      o.base = op.mem.base, o.index = op.mem.index, o.segment = op.mem.segment;
      o.disp = op.mem.disp.value;
    }
  }
  return in;
}

bool decode_insn(std::span<const uint8_t> bytes, Insn& out) {
  ByteCache<Insn>& cache = thread_byte_cache<Insn>();
  if (const Insn* hit = cache.find(bytes)) {
    out = *hit;
    return true;
  }
  auto decoded = decode_insn_uncached(bytes);
  if (!decoded) return false;  // invalid bytes are rare and never cached
  cache.put(bytes, *decoded);
  out = *decoded;
  return true;
}

}  // namespace w64stub::unwind_detail
