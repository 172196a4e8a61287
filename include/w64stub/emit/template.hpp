// Template: an Image encoded once and placed many times by patching its fields - byte for byte what emit
// gives at the same addresses, and refused where emit refuses them. No model lets an address change an
// instruction's form: each fixes the width of its address fields (go2012 refuses an address beyond a
// sign-extended 32 bits, where asmjit would pick another form), and jumps within the code do not move with
// it. A placement allocates nothing and names no symbol by string: the fields are a table of offsets and
// constants, and the addresses each section may take are two ranges computed once. A Template does not change
// once made: place() and image_at() may run on several threads at once.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/field.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

class Template {
 public:
  // Refused: an Image without code (nothing to place or call), a field outside its section or naming no
  // symbol of the Image, a field relative to the code that names the data.
  static Expected<Template> make(Image image);

  const Image& image() const { return image_; }
  size_t text_size() const { return text_size_; }
  size_t data_size() const { return data_size_; }
  // What a placement binds, in this order: the Image's imports (the function each slot holds) and externals.
  // (By index into image().symbols: a copy of a Template is as good as the original.)
  std::vector<const Symbol*> bound_symbols() const;
  size_t bound_count() const { return bound_.size(); }

  // The text and data as they are at `code` and `data` (data ignored without a data section), with
  // bound[i] the address of bound_symbols()[i]: every field patched, every import slot filled. `text` and
  // `data_out` must hold text_size() and data_size() bytes. Refused as emit refuses the same addresses: code
  // reaching past user space's end, a data section past the model's reach or overlapping the code, a value that
  // does not fit its field; also data at an address emit would align its symbols differently from
  // (Image::data_align). Inline (below): its callers place stubs by the thousand, and the call and its
  // prologue were a tenth of a placement.
  [[gnu::always_inline]] Status place(uint64_t code, uint64_t data, std::span<const uint64_t> bound,
                                      std::span<uint8_t> text, std::span<uint8_t> data_out) const {
    return place_into<true>(code, data, bound, text, data_out);
  }

  // What emit gives for code at `code` and data at `data` (ignored without a data section), as a whole Image:
  // the bytes as place() writes them, unbound as emit leaves them (import slots zero; an external 0 in an
  // absolute field, the code's start in a relative one), the symbols moved with their sections, and the
  // instruction map, relocations, unwind data and source lines, which no placement changes, as they are.
  // The per-program work (lowering, encoding, relaxation, deriving the unwind data) was make()'s: this
  // costs a copy of the Image. Refused where place() refuses.
  Expected<Image> image_at(uint64_t code, uint64_t data) const;

  // What the code does with its data section (the absolute models'; the rip model's data travels in the
  // text): nothing (no data), only reads it in place, takes its address (lea, an immediate: what is then
  // done through the pointer is not known here), or writes it (an instruction stores to it).
  enum class DataUse { None, Read, AddressTaken, Written };
  DataUse data_use() const { return data_use_; }
  // The code alone, against data that an earlier place() with the same bindings put at `data`: the stubs of
  // one template then share one copy of their data. Refused as place() refuses the addresses, and for code
  // that writes its data (DataUse::Written); code that takes its data's address shares it on the caller's
  // word that nothing writes through the pointer.
  [[gnu::always_inline]] Status place_sharing_data(uint64_t code, uint64_t data, std::span<const uint64_t> bound,
                                                   std::span<uint8_t> text) const {
    if (data_use_ == DataUse::Written) [[unlikely]]
      return unshareable();
    return place_into<false>(code, data, bound, text, {});
  }

 private:
  static constexpr uint32_t kCode = 0, kData = 1, kWide = 2;  // Patch::base, windows_ and the patch groups
  enum class Base : uint8_t { Code, Data, Bound };
  struct Target {
    Base base;
    uint64_t offset;  // in its section, or the index of its binding
  };
  // Every field, in relocation order: the messages, and the fields held by a binding.
  struct Field {
    uint32_t at, instr_end;
    RelocKind kind;
    Base base;
    uint64_t offset;  // from the base: the symbol's offset plus the addend
    uint32_t bound;   // Base::Bound: the binding's index
  };
  // An absolute field of a section: its value is the section's address plus a constant. A field relative
  // to its own code is no patch: it holds the same value wherever the code goes.
  struct Patch {
    uint32_t at, base;  // base: 0 the code's address, 1 the data's
    uint64_t delta;
  };
  // The addresses a section may take, size of them from first: where the model reaches it and each of its
  // 32-bit fields holds its value. Computed once, so that place() checks two ranges, not every field.
  struct Window {
    uint64_t first = 0, size = 0;
    bool holds(uint64_t address) const { return address - first < size; }
    void narrow(int64_t lo, int64_t hi);
  };
  struct Slot {
    uint32_t offset, bound;
  };

  using Patches = std::vector<Patch>[3];  // 32-bit from the code, 32-bit from the data, 64-bit
  Status add_field(const Relocation& r, const Target& target, Patches& patches);
  template <bool kWriteData>
  [[gnu::always_inline]] Status place_into(uint64_t code, uint64_t data, std::span<const uint64_t> bound,
                                           std::span<uint8_t> text, std::span<uint8_t> data_out) const;
  static DataUse data_use_of(const Image& image, const Relocation& r);
  [[gnu::cold, gnu::noinline]] Error misuse(size_t bindings) const;
  [[gnu::cold, gnu::noinline]] Error unshareable() const;
  [[gnu::cold, gnu::noinline]] Error misplaced(uint64_t code, uint64_t data, std::span<const uint64_t> bound) const;

  Image image_;
  std::vector<uint8_t> bytes_;  // the image's text, then its data, beside the tables place() reads
  uint32_t text_size_ = 0, data_size_ = 0, bound_count_ = 0;
  std::vector<Field> fields_, bound_fields_;
  std::vector<Patch> patches_;  // by group (Patches), each group ending at its patch_ends_
  uint32_t patch_ends_[3] = {};
  Window windows_[2];       // of the code and the data
  std::vector<Slot> slots_;  // the code's text_slots_, then the data's
  uint32_t text_slots_ = 0;
  uint64_t overlap_shift_ = 0, overlap_span_ = 0;  // see make()
  // The data moves by multiples of its alignment (Image::data_align): its address modulo it stays the residue.
  uint64_t data_align_mask_ = 0, data_residue_ = 0;
  std::vector<uint32_t> bound_;  // the bound symbols' indices in image_.symbols
  DataUse data_use_ = DataUse::None;
  uint64_t data_limit_ = 0;  // the highest data address whose section the model still reaches
  // The highest address of the data an abs32 field holds: the model's reach (go2012: below 2^31, where
  // emit refuses it); the code's is the field's own.
  uint64_t data_unsigned_limit_ = 0;
};

// kWriteData: the data too (place), or only the code against data placed before (place_sharing_data).
template <bool kWriteData>
[[gnu::always_inline]] inline Status Template::place_into(uint64_t code, uint64_t data, std::span<const uint64_t> bound,
                                                          std::span<uint8_t> text, std::span<uint8_t> data_out) const {
  const size_t text_bytes = text_size_, data_bytes = data_size_;
  if (bound.size() != bound_count_ || text.size() < text_bytes || (kWriteData && data_out.size() < data_bytes)) [[unlikely]]
    return misuse(bound.size());
  // The checks before the first write: the code's window, then the data's and their overlap (a binding's
  // field is checked as it is written).
  if (!windows_[kCode].holds(code)) [[unlikely]]
    return misplaced(code, data, bound);
  if (data_bytes) {
    const uint64_t into = data - windows_[kData].first;  // the window starts at the data's residue (make)
    if (into >= windows_[kData].size || (into & data_align_mask_) != 0 ||
        data - code + overlap_shift_ < overlap_span_) [[unlikely]]
      return misplaced(code, data, bound);
    if constexpr (kWriteData) std::memcpy(data_out.data(), bytes_.data() + text_bytes, data_bytes);
  }
  std::memcpy(text.data(), bytes_.data(), text_bytes);  // never empty (make)
  // Every field lies inside the text (make checked) and holds its value (the windows): a store of its width.
  uint8_t* out = text.data();
  const Patch* p = patches_.data();
  for (const Patch* end = p + patch_ends_[kCode]; p != end; ++p) {
    const auto value = static_cast<uint32_t>(code + p->delta);
    std::memcpy(out + p->at, &value, 4);
  }
  for (const Patch* end = patches_.data() + patch_ends_[kData]; p != end; ++p) {
    const auto value = static_cast<uint32_t>(data + p->delta);
    std::memcpy(out + p->at, &value, 4);
  }
  for (const Patch* end = patches_.data() + patch_ends_[kWide]; p != end; ++p) {
    const uint64_t value = (p->base == kCode ? code : data) + p->delta;
    std::memcpy(out + p->at, &value, 8);
  }
  for (const Field& f : bound_fields_) {  // held by a binding: rare (an external's address)
    uint64_t value = 0;
    if (!field_value(f.kind, bound[f.bound] + f.offset, code + f.instr_end, value)) [[unlikely]]
      return misplaced(code, data, bound);
    std::memcpy(out + f.at, &value, f.kind == RelocKind::Abs64 ? 8 : 4);
  }
  // Import slots hold their functions (inside their sections: make checked).
  const Slot* s = slots_.data();
  for (const Slot* end = s + text_slots_; s != end; ++s) std::memcpy(out + s->offset, &bound[s->bound], 8);
  if constexpr (kWriteData)
    for (const Slot* end = slots_.data() + slots_.size(); s != end; ++s) std::memcpy(data_out.data() + s->offset, &bound[s->bound], 8);
  return Ok{};
}

}  // namespace w64stub
