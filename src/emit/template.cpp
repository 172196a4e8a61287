#include "w64stub/emit/template.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "w64stub/core/disasm.hpp"
#include "w64stub/core/field.hpp"
#include "w64stub/core/layout.hpp"

namespace w64stub {

namespace {

constexpr int64_t kFar = int64_t{1} << 40;  // past any section and addend: make() refuses a field that reaches it

}  // namespace

// Keeps, of the addresses allowed so far, those in lo..hi (integers: lo may be below zero).
void Template::Window::narrow(int64_t lo, int64_t hi) {
  const uint64_t from = std::max(first, static_cast<uint64_t>(std::max<int64_t>(lo, 0)));
  const uint64_t end = hi < 0 ? 0 : std::min(first + size, static_cast<uint64_t>(hi) + 1);
  first = from, size = end > from ? end - from : 0;  // none left: place() refuses all, misplaced() says why
}

Expected<Template> Template::make(Image image) {
  Template t;
  t.image_ = std::move(image);
  const Image& im = t.image_;
  if (im.text.bytes.empty()) return Error{fmt::format("{}: no code to place", im.stub)};
  const uint64_t limit = address_limit(im.model);
  if (im.text.bytes.size() > UINT32_MAX || im.data.bytes.size() > std::min<uint64_t>(limit, UINT32_MAX))
    return Error{fmt::format("{}: sections of {:#x} and {:#x} bytes: too large to place", im.stub, im.text.bytes.size(), im.data.bytes.size())};
  t.text_size_ = static_cast<uint32_t>(im.text.bytes.size());
  t.data_size_ = static_cast<uint32_t>(im.data.bytes.size());
  t.bytes_ = im.text.bytes;
  t.bytes_.insert(t.bytes_.end(), im.data.bytes.begin(), im.data.bytes.end());
  t.data_limit_ = limit - t.data_size_;
  t.data_unsigned_limit_ = std::min<uint64_t>(limit - 1, UINT32_MAX);
  const uint32_t align = im.data_align;
  if (align == 0 || (align & (align - 1)) != 0)
    return Error{fmt::format("{}: data alignment {} is not a power of two", im.stub, align)};
  t.data_align_mask_ = im.data.bytes.empty() ? 0 : align - 1;
  t.data_residue_ = im.data.address & t.data_align_mask_;
  t.windows_[kCode] = {0, kUserSpaceEnd - t.text_size_ + 1};  // all of the code below user space's end
  t.windows_[kData] = {0, t.data_limit_ + 1};
  // place() reads each table front to back: the patches of the code, of the data and 64-bit ones, then the
  // slots of the code and of the data.
  Patches patches;
  std::vector<Slot> slots[2];
  // Where each symbol lands: a section and an offset in it, or a binding.
  std::map<std::string_view, Target> target;
  for (uint32_t index = 0; index < im.symbols.size(); ++index) {
    const Symbol& s = im.symbols[index];
    const bool in_data = !im.data.bytes.empty() && s.address >= im.data.address &&
                         s.address < im.data.address + im.data.bytes.size();
    const Target here{in_data ? Base::Data : Base::Code, s.address - (in_data ? im.data.address : im.text.address)};
    const size_t section = in_data ? im.data.bytes.size() : im.text.bytes.size();
    if (s.kind == SymbolKind::Import && here.offset + 8 > section)
      return Error{fmt::format("{}: import slot {} lies outside its section", im.stub, s.name)};
    if (s.kind == SymbolKind::Import)
      slots[in_data ? kData : kCode].push_back({static_cast<uint32_t>(here.offset), static_cast<uint32_t>(t.bound_.size())});
    if (s.kind == SymbolKind::Import || s.kind == SymbolKind::External) t.bound_.push_back(index);
    target.emplace(s.name, s.kind == SymbolKind::External ? Target{Base::Bound, t.bound_.size() - 1} : here);
  }
  for (const Relocation& r : im.relocations) {
    if (r.offset + (r.kind == RelocKind::Abs64 ? 8u : 4u) > im.text.bytes.size())
      return Error{fmt::format("{}: relocation at {:#x} lies outside the code", im.stub, r.offset)};
    auto it = target.find(r.symbol);
    if (it == target.end()) return Error{fmt::format("{}: relocation at {:#x} names {}, which is no symbol of it", im.stub, r.offset, r.symbol)};
    if (auto added = t.add_field(r, it->second, patches); !added) return added.error();
    if (it->second.base == Base::Data) t.data_use_ = std::max(t.data_use_, data_use_of(im, r));
  }
  // The data's window starts at an address of the data's residue, so that place() finds the alignment in
  // the offset into the window it computes anyway.
  Window& data_window = t.windows_[kData];
  const uint64_t up = (t.data_residue_ - data_window.first) & t.data_align_mask_;
  data_window.first += up;
  data_window.size = data_window.size > up ? data_window.size - up : 0;
  for (std::vector<Patch>& group : patches) {
    t.patches_.insert(t.patches_.end(), group.begin(), group.end());
    t.patch_ends_[&group - patches] = static_cast<uint32_t>(t.patches_.size());
  }
  t.slots_ = std::move(slots[kCode]);
  t.text_slots_ = static_cast<uint32_t>(t.slots_.size());
  t.slots_.insert(t.slots_.end(), slots[kData].begin(), slots[kData].end());
  if (t.data_size_ != 0) {  // code and data overlap where data - code + shift < span (unsigned)
    t.overlap_shift_ = t.data_size_ - 1;
    t.overlap_span_ = uint64_t{t.text_size_} + t.data_size_ - 1;
  }
  t.bound_count_ = static_cast<uint32_t>(t.bound_.size());
  return t;
}

std::vector<const Symbol*> Template::bound_symbols() const {
  std::vector<const Symbol*> out;
  for (uint32_t index : bound_) out.push_back(&image_.symbols[index]);
  return out;
}

Expected<Image> Template::image_at(uint64_t code, uint64_t data) const {
  constexpr size_t kMostOnStack = 16;  // a stub's bindings; a linked file's may be more
  uint64_t on_stack[kMostOnStack];
  std::vector<uint64_t> on_heap(bound_count_ > kMostOnStack ? bound_count_ : 0);
  const std::span<uint64_t> unbound = on_heap.empty() ? std::span<uint64_t>(on_stack, bound_count_) : on_heap;
  for (size_t i = 0; i < bound_count_; ++i)  // emit puts an external at the code's start, its symbol at 0
    unbound[i] = image_.symbols[bound_[i]].kind == SymbolKind::External && image_.model == Model::Rip ? code : 0;
  Image out = image_;
  if (auto placed = place(code, data, unbound, out.text.bytes, out.data.bytes); !placed) return placed.error();
  for (Symbol& s : out.symbols)
    if (s.kind != SymbolKind::External) s.address = image_.placed_address(s, code, data);
  out.text.address = code;
  if (!out.data.bytes.empty()) out.data.address = data;
  return out;
}

// How the instruction holding a field that names the data uses it: Read or Written through its memory
// operand, AddressTaken when the field is an immediate or lea's - unless emit made the immediate for the
// next instruction of the same source line to access (abs64: mov r64, imm64; mov r, [r64]). An instruction
// that cannot be found or decoded counts as a write (its data is then never shared).
Template::DataUse Template::data_use_of(const Image& image, const Relocation& r) {
  auto after = std::upper_bound(image.instrs.begin(), image.instrs.end(), r.offset,
                                [](uint32_t at, const InstrInfo& instr) { return at < instr.offset; });
  if (after == image.instrs.begin()) return DataUse::Written;
  const InstrInfo& instr = *std::prev(after);
  auto decode_at = [&](const InstrInfo& i) -> std::optional<Decoded> {
    auto d = decode_one({image.text.bytes.data() + i.offset, i.length}, image.text.address + i.offset);
    return d ? std::optional<Decoded>(std::move(*d)) : std::nullopt;
  };
  auto decoded = r.offset < instr.offset + instr.length ? decode_at(instr) : std::nullopt;
  if (!decoded) return DataUse::Written;
  MemoryUse use = MemoryUse::AddressOnly;  // the field is an immediate: the address itself
  if (decoded->disp.present() && instr.offset + static_cast<uint32_t>(decoded->disp.offset) == r.offset)
    use = decoded->memory;
  else if (after != image.instrs.end() && instr.origin == InstrOrigin::Program && after->origin == InstrOrigin::Program &&
           after->program_index == instr.program_index)
    if (auto access = decode_at(*after)) use = access->memory == MemoryUse::None ? MemoryUse::AddressOnly : access->memory;
  switch (use) {
    case MemoryUse::Read: return DataUse::Read;
    case MemoryUse::AddressOnly: return DataUse::AddressTaken;
    case MemoryUse::Written: case MemoryUse::None: return DataUse::Written;
  }
  return DataUse::Written;
}

Error Template::unshareable() const {
  return Error{fmt::format("{}: its code writes its data: every stub needs a copy of its own (place)", image_.stub)};
}

// Sorts a field into place()'s tables: by how its value must fit, with the base it moves with.
Status Template::add_field(const Relocation& r, const Target& target, Patches& patches) {
  const bool bound = target.base == Base::Bound;
  const Field f{r.offset, r.instr_end, r.kind, target.base,
                bound ? static_cast<uint64_t>(r.addend) : target.offset + static_cast<uint64_t>(r.addend),
                bound ? static_cast<uint32_t>(target.offset) : 0};
  fields_.push_back(f);
  if (bound) {
    bound_fields_.push_back(f);
    return Ok{};
  }
  const bool relative = f.kind == RelocKind::Rel32;
  if (relative && f.base == Base::Code) return Ok{};  // the same wherever the code goes: the bytes hold it
  if (relative)  // the data moves apart from the code: not a layout any model makes
    return Error{fmt::format("{}: the rel32 field at {:#x} is relative to the code but names the data", image_.stub, f.at)};
  const auto delta = static_cast<int64_t>(f.offset);
  if (delta <= -kFar || delta >= kFar)
    return Error{fmt::format("{}: the {} field at {:#x} reaches {:#x} bytes from its section", image_.stub, name(f.kind), f.at, f.offset)};
  const uint32_t base = f.base == Base::Code ? kCode : kData;
  switch (f.kind) {
    case RelocKind::Abs64: patches[kWide].push_back({f.at, base, f.offset}); return Ok{};
    case RelocKind::Abs32S: windows_[base].narrow(INT32_MIN - delta, INT32_MAX - delta); break;
    case RelocKind::Abs32: {
      const auto most = static_cast<int64_t>(base == kData ? data_unsigned_limit_ : UINT32_MAX);
      windows_[base].narrow(-delta, most - delta);
      break;
    }
    case RelocKind::Rel32: break;  // refused above
  }
  patches[base].push_back({f.at, base, f.offset});
  return Ok{};
}

// The errors, out of place()'s way.
Error Template::misuse(size_t bindings) const {
  return Error{fmt::format("{}: {} bindings given, {} wanted, or the buffers are smaller than the image", image_.stub,
                           bindings, bound_.size())};
}

// Why a placement falls outside the windows: the model's reach, an overlap, or the first field, in relocation
// order, whose value does not fit.
Error Template::misplaced(uint64_t code, uint64_t data, std::span<const uint64_t> bound) const {
  if (code > kUserSpaceEnd - text_size_)
    return Error{fmt::format("{} placed at {:#x}: code at {:#x}..{:#x} reaches past user space's end ({:#x})",
                             image_.stub, code, code, code + text_size_, kUserSpaceEnd)};
  if (data_size_ != 0 && data > data_limit_)
    return Error{fmt::format("{}: {} model: data at {:#x}..{:#x} is out of reach (every byte must lie below {:#x})",
                             image_.stub, name(image_.model), data, data + data_size_, data_limit_ + data_size_)};
  if (data_size_ != 0 && ((data - data_residue_) & data_align_mask_) != 0)
    return Error{fmt::format("{}: data at {:#x}: its symbols are aligned to {}, which holds at data addresses of "
                             "{:#x} modulo {} only", image_.stub, data, data_align_mask_ + 1, data_residue_,
                             data_align_mask_ + 1)};
  for (const Field& f : fields_) {
    const uint64_t target = (f.base == Base::Bound ? bound[f.bound] : f.base == Base::Data ? data : code) + f.offset;
    uint64_t value = 0;
    const bool reached = f.kind != RelocKind::Abs32 || f.base != Base::Data || target <= data_unsigned_limit_;
    if (!field_value(f.kind, target, code + f.instr_end, value) || !reached)
      return Error{fmt::format("{} placed at {:#x}: the {} field at {:#x} cannot hold {:#x}", image_.stub, code,
                               name(f.kind), f.at, target)};
  }
  return Error{fmt::format("{}: code at {:#x}..{:#x} overlaps data at {:#x}..{:#x}", image_.stub, code,
                           code + text_size_, data, data + data_size_)};
}

}  // namespace w64stub
