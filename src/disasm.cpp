#include "w64stub/disasm.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

namespace w64stub {

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
  return d;
}

}  // namespace w64stub
