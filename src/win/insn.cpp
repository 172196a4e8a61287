#include "insn_p.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

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

namespace {

// Four ways to a set, so a stub's few dozen instructions rarely push each other out; a full set gives up
// its entries in turn.
struct Cache {
  static constexpr size_t kSets = 128, kWays = 4;
  struct Entry {
    uint8_t length = 0;  // 0: empty (no instruction is 0 bytes)
    uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH] = {};
    Insn insn;
  };
  struct Set {
    Entry ways[kWays];
    uint8_t next = 0;  // the way the next miss replaces
  };
  Set sets[kSets];
};

size_t set_of(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull ^ bytes.size();  // FNV-1a over at most 15 bytes
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return static_cast<size_t>(h ^ (h >> 32)) % Cache::kSets;
}

}  // namespace

bool decode_insn(std::span<const uint8_t> bytes, Insn& out) {
  if (bytes.empty() || bytes.size() > ZYDIS_MAX_INSTRUCTION_LENGTH) {
    auto decoded = decode_insn_uncached(bytes);
    if (decoded) out = *decoded;
    return decoded.has_value();
  }
  thread_local std::unique_ptr<Cache> cache;
  if (!cache) cache = std::make_unique<Cache>();
  Cache::Set& set = cache->sets[set_of(bytes)];
  for (const Cache::Entry& e : set.ways)
    if (e.length == bytes.size() && std::memcmp(e.bytes, bytes.data(), bytes.size()) == 0) {
      out = e.insn;
      return true;
    }
  auto decoded = decode_insn_uncached(bytes);
  if (!decoded) return false;  // invalid bytes are rare and never cached
  Cache::Entry& e = set.ways[set.next];
  set.next = static_cast<uint8_t>((set.next + 1) % Cache::kWays);
  e.length = static_cast<uint8_t>(bytes.size());
  std::memcpy(e.bytes, bytes.data(), bytes.size());
  e.insn = out = *decoded;
  return true;
}

}  // namespace w64stub::unwind_detail
