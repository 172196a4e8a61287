#include "w64stub/win/unwind.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/disasm.hpp"

namespace w64stub {

std::string_view name(UnwindOp op) {
  switch (op) {
    case UnwindOp::PushNonvol: return "PUSH_NONVOL";
    case UnwindOp::AllocLarge: return "ALLOC_LARGE";
    case UnwindOp::AllocSmall: return "ALLOC_SMALL";
    case UnwindOp::SetFpreg: return "SET_FPREG";
    case UnwindOp::SaveNonvol: return "SAVE_NONVOL";
    case UnwindOp::SaveNonvolFar: return "SAVE_NONVOL_FAR";
    case UnwindOp::SaveXmm128: return "SAVE_XMM128";
    case UnwindOp::SaveXmm128Far: return "SAVE_XMM128_FAR";
  }
  return "?";
}

namespace {

constexpr uint32_t kMaxAllocLargeScaled = 0xFFFF;  // ALLOC_LARGE info 0 and the near saves: a 16-bit scaled field

void put16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_slot(std::vector<uint8_t>& out, uint8_t offset, uint8_t op, uint8_t info) {
  out.push_back(offset);
  out.push_back(static_cast<uint8_t>(op | (info << 4)));
}

// One code in its encoded form: 1 to 3 slots.
void encode_code(std::vector<uint8_t>& out, const UnwindCode& c) {
  switch (c.op) {
    case UnwindOp::PushNonvol: put_slot(out, c.prolog_offset, 0, c.reg); return;
    case UnwindOp::SetFpreg: put_slot(out, c.prolog_offset, 3, 0); return;
    case UnwindOp::AllocSmall: put_slot(out, c.prolog_offset, 2, static_cast<uint8_t>((c.value - 8) / 8)); return;
    case UnwindOp::AllocLarge:
      if (c.value / 8 <= kMaxAllocLargeScaled) {
        put_slot(out, c.prolog_offset, 1, 0);
        put16(out, c.value / 8);
      } else {
        put_slot(out, c.prolog_offset, 1, 1);
        put16(out, c.value & 0xFFFF);
        put16(out, c.value >> 16);
      }
      return;
    case UnwindOp::SaveNonvol: case UnwindOp::SaveXmm128:
      put_slot(out, c.prolog_offset, static_cast<uint8_t>(c.op), c.reg);
      put16(out, c.value / (c.op == UnwindOp::SaveNonvol ? 8 : 16));
      return;
    case UnwindOp::SaveNonvolFar: case UnwindOp::SaveXmm128Far:
      put_slot(out, c.prolog_offset, static_cast<uint8_t>(c.op), c.reg);
      put16(out, c.value & 0xFFFF);
      put16(out, c.value >> 16);
      return;
  }
}

}  // namespace

std::vector<uint8_t> UnwindInfo::encode() const {
  std::vector<uint8_t> out;
  out.reserve(4 + codes.size() * 6 + 2);  // a code takes at most three slots, the array an even number
  out.resize(4);  // the header, written below
  for (auto it = codes.rbegin(); it != codes.rend(); ++it) encode_code(out, *it);
  const auto count = static_cast<uint8_t>((out.size() - 4) / 2);
  out.resize(out.size() + (count % 2) * 2, 0);
  out[0] = 1;  // version 1, no handler, not chained
  out[1] = prolog_size;
  out[2] = count;
  out[3] = static_cast<uint8_t>(frame_register | (frame_offset / 16) << 4);
  return out;
}

Expected<UnwindInfo> UnwindInfo::decode(std::span<const uint8_t> b) {
  if (b.size() < 4 || (b[0] & 7) != 1) return Error{"not an UNWIND_INFO of version 1"};
  if (b[0] >> 3) return Error{fmt::format("UNWIND_INFO flags {:#x}: handlers and chained info are not read", b[0] >> 3)};
  UnwindInfo info;
  info.prolog_size = b[1];
  info.frame_register = b[3] & 15;
  info.frame_offset = static_cast<uint8_t>((b[3] >> 4) * 16);
  const size_t count = b[2];
  if (b.size() < 4 + 2 * count) return Error{fmt::format("UNWIND_INFO of {} bytes holds {} slots", b.size(), count)};
  auto slot16 = [&](size_t k) { return static_cast<uint32_t>(b[4 + 2 * k] | b[5 + 2 * k] << 8); };
  for (size_t k = 0; k < count;) {
    UnwindCode c;
    c.prolog_offset = b[4 + 2 * k];
    const uint8_t op = b[5 + 2 * k] & 15, op_info = b[5 + 2 * k] >> 4;
    c.op = static_cast<UnwindOp>(op);
    c.reg = op_info;
    size_t slots = 1;
    switch (op) {
      case 0: case 3: break;
      case 2: c.value = (op_info + 1u) * 8; c.reg = 0; break;
      case 1: slots = op_info ? 3 : 2; c.reg = 0; break;
      case 4: case 8: slots = 2; break;
      case 5: case 9: slots = 3; break;
      default: return Error{fmt::format("unwind code {} is not read", op)};
    }
    if (k + slots > count) return Error{"an unwind code runs past the code array"};
    if (op == 1) c.value = op_info ? slot16(k + 1) | slot16(k + 2) << 16 : slot16(k + 1) * 8;
    if (op == 4 || op == 8) c.value = slot16(k + 1) * (op == 4 ? 8 : 16);
    if (op == 5 || op == 9) c.value = slot16(k + 1) | slot16(k + 2) << 16;
    info.codes.insert(info.codes.begin(), c);
    k += slots;
  }
  return info;
}

std::vector<uint8_t> RuntimeFunction::encode() const {
  std::vector<uint8_t> out(12);
  std::memcpy(out.data(), &begin, 4);
  std::memcpy(out.data() + 4, &end, 4);
  std::memcpy(out.data() + 8, &unwind_info, 4);
  return out;
}

std::string format_unwind(const Image& image, const UnwindInfo& info) {
  std::string out = fmt::format("{} ({}): UNWIND_INFO version 1, prolog {} bytes, {} code(s)", image.symbol,
                                image.stub, info.prolog_size, info.codes.size());
  if (info.frame_register)
    out += fmt::format(", frame register {} = RSP+{:#x}", win64::gp_name(info.frame_register), info.frame_offset);
  out += "\n";
  for (const InstrInfo& in : image.instrs) {
    if (in.offset >= info.prolog_size) break;
    auto d = decode_one({image.text.bytes.data() + in.offset, in.length}, image.text.address + in.offset);
    std::string codes;
    for (const UnwindCode& c : info.codes) {
      if (c.prolog_offset != in.offset + in.length) continue;
      codes += fmt::format("  {}", name(c.op));
      if (c.op == UnwindOp::PushNonvol || c.op == UnwindOp::SaveNonvol || c.op == UnwindOp::SaveNonvolFar)
        codes += fmt::format(" {}", win64::gp_name(c.reg));
      if (c.op == UnwindOp::SaveXmm128 || c.op == UnwindOp::SaveXmm128Far) codes += fmt::format(" xmm{}", c.reg);
      if (c.op != UnwindOp::PushNonvol && c.op != UnwindOp::SetFpreg) codes += fmt::format(" {:#x}", c.value);
    }
    out += fmt::format("  {:04x}  {:<36}{}\n", in.offset, d ? d->text : "?", codes);
  }
  return out;
}

}  // namespace w64stub
