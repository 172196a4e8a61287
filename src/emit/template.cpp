#include "w64stub/emit/template.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>

namespace w64stub {

Expected<Template> Template::make(Image image) {
  Template t;
  t.image_ = std::move(image);
  const Image& im = t.image_;
  std::map<std::string_view, uint32_t> index;
  for (const Symbol& s : im.symbols) {
    index.emplace(s.name, static_cast<uint32_t>(t.targets_.size()));
    const bool in_data = !im.data.bytes.empty() && s.address >= im.data.address &&
                         s.address < im.data.address + im.data.bytes.size();
    if (s.kind == SymbolKind::Import || s.kind == SymbolKind::External) t.bound_.push_back(&s);
    if (s.kind == SymbolKind::External)
      t.targets_.push_back({Section::Bound, t.bound_.size() - 1});
    else
      t.targets_.push_back({in_data ? Section::Data : Section::Text, s.address - (in_data ? im.data.address : im.text.address)});
  }
  for (const Symbol* s : t.bound_)
    if (s->kind == SymbolKind::Import) t.slots_.push_back(index.at(s->name));
  for (const Relocation& r : im.relocations) {
    auto it = index.find(r.symbol);
    if (it == index.end()) return Error{fmt::format("{}: relocation at {:#x} names {}, which is no symbol of it", im.stub, r.offset, r.symbol)};
    t.fields_.push_back({r.offset, r.kind, r.instr_end, it->second, r.addend});
  }
  return t;
}

uint64_t Template::address(const Target& t, uint64_t code, uint64_t data, std::span<const uint64_t> bound) const {
  switch (t.section) {
    case Section::Text: return code + t.offset;
    case Section::Data: return data + t.offset;
    case Section::Bound: return bound[t.offset];
  }
  return 0;
}

Status Template::place(uint64_t code, uint64_t data, std::span<const uint64_t> bound, std::span<uint8_t> text,
                       std::span<uint8_t> data_out) const {
  if (bound.size() != bound_.size())
    return Error{fmt::format("{}: {} bindings given, {} wanted", image_.stub, bound.size(), bound_.size())};
  if (text.size() < text_size() || data_out.size() < data_size())
    return Error{fmt::format("{}: the buffers are smaller than the image", image_.stub)};
  std::memcpy(text.data(), image_.text.bytes.data(), text_size());
  if (data_size()) std::memcpy(data_out.data(), image_.data.bytes.data(), data_size());
  for (const Field& f : fields_) {
    const uint64_t target = address(targets_[f.target], code, data, bound);
    if (!patch_field(text, code, f.offset, f.kind, f.instr_end, target + static_cast<uint64_t>(f.addend)))
      return Error{fmt::format("{} placed at {:#x}: the {} field at {:#x} cannot hold {:#x}", image_.stub, code,
                               name(f.kind), f.offset, target + static_cast<uint64_t>(f.addend))};
  }
  for (size_t k = 0, b = 0; k < bound_.size(); ++k) {  // import slots hold their functions
    if (bound_[k]->kind != SymbolKind::Import) continue;
    const Target& slot = targets_[slots_[b++]];
    std::span<uint8_t> section = slot.section == Section::Data ? data_out : text;
    if (slot.offset + 8 > section.size()) return Error{fmt::format("{}: an import slot lies outside the image", image_.stub)};
    std::memcpy(section.data() + slot.offset, &bound[k], 8);
  }
  return Ok{};
}

}  // namespace w64stub
