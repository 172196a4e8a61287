#include "w64stub/emit/template.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>

namespace w64stub {

Expected<Template> Template::make(Image image) {
  Template t;
  t.image_ = std::move(image);
  const Image& im = t.image_;
  t.text_ = im.text.bytes;
  t.data_ = im.data.bytes;
  // Where each symbol lands: a section and an offset in it, or a binding.
  std::map<std::string_view, Target> target;
  for (const Symbol& s : im.symbols) {
    const bool in_data = !im.data.bytes.empty() && s.address >= im.data.address &&
                         s.address < im.data.address + im.data.bytes.size();
    const Target here{in_data ? Base::Data : Base::Code, s.address - (in_data ? im.data.address : im.text.address)};
    const size_t section = in_data ? im.data.bytes.size() : im.text.bytes.size();
    if (s.kind == SymbolKind::Import && here.offset + 8 > section)
      return Error{fmt::format("{}: import slot {} lies outside its section", im.stub, s.name)};
    if (s.kind == SymbolKind::Import) t.slots_.push_back({here.base, static_cast<uint32_t>(here.offset), static_cast<uint32_t>(t.bound_.size())});
    if (s.kind == SymbolKind::Import || s.kind == SymbolKind::External) t.bound_.push_back(&s);
    target.emplace(s.name, s.kind == SymbolKind::External ? Target{Base::Bound, t.bound_.size() - 1} : here);
  }
  for (const Relocation& r : im.relocations) {
    if (r.offset + (r.kind == RelocKind::Abs64 ? 8u : 4u) > im.text.bytes.size())
      return Error{fmt::format("{}: relocation at {:#x} lies outside the code", im.stub, r.offset)};
    auto it = target.find(r.symbol);
    if (it == target.end()) return Error{fmt::format("{}: relocation at {:#x} names {}, which is no symbol of it", im.stub, r.offset, r.symbol)};
    const bool bound = it->second.base == Base::Bound;
    t.fields_.push_back({r.offset, r.instr_end, r.kind, it->second.base,
                         bound ? static_cast<uint64_t>(r.addend) : it->second.offset + static_cast<uint64_t>(r.addend),
                         bound ? static_cast<uint32_t>(it->second.offset) : 0});
  }
  return t;
}

// The errors, out of place()'s way.
Error Template::misuse(size_t bindings) const {
  return Error{fmt::format("{}: {} bindings given, {} wanted, or the buffers are smaller than the image", image_.stub,
                           bindings, bound_.size())};
}

Error Template::does_not_fit(const Field& f, uint64_t code, uint64_t target) const {
  return Error{fmt::format("{} placed at {:#x}: the {} field at {:#x} cannot hold {:#x}", image_.stub, code, name(f.kind),
                           f.at, target)};
}

Status Template::place(uint64_t code, uint64_t data, std::span<const uint64_t> bound, std::span<uint8_t> text,
                       std::span<uint8_t> data_out) const {
  const size_t text_bytes = text_.size(), data_bytes = data_.size();
  if (bound.size() != bound_.size() || text.size() < text_bytes || data_out.size() < data_bytes) [[unlikely]]
    return misuse(bound.size());
  std::memcpy(text.data(), text_.data(), text_bytes);
  if (data_bytes) std::memcpy(data_out.data(), data_.data(), data_bytes);
  // Every field lies inside the text (make checked): a store of its width, after the check that it fits.
  const uint64_t bases[] = {code, data};
  for (const Field& f : fields_) {
    const uint64_t target = (f.base == Base::Bound ? bound[f.bound] : bases[static_cast<int>(f.base)]) + f.offset;
    uint64_t value = 0;
    if (!field_value(f.kind, target, code + f.instr_end, value)) [[unlikely]]
      return does_not_fit(f, code, target);
    if (f.kind == RelocKind::Abs64) {
      std::memcpy(text.data() + f.at, &value, 8);
    } else {
      const auto low = static_cast<uint32_t>(value);
      std::memcpy(text.data() + f.at, &low, 4);
    }
  }
  for (const Slot& s : slots_)  // import slots hold their functions (inside their section: make checked)
    std::memcpy((s.base == Base::Data ? data_out : text).data() + s.offset, &bound[s.bound], 8);
  return Ok{};
}

}  // namespace w64stub
