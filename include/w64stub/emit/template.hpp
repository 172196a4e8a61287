// Template: an Image encoded once and placed many times by patching its fields - byte for byte what emit
// gives at the same addresses, because no model lets an address change an instruction's form (each fixes the
// width of its address fields; jumps within the code do not move with it). A placement allocates nothing
// and names no symbol by string: the fields are a table of offsets, kinds and symbol indices.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

class Template {
 public:
  static Expected<Template> make(Image image);

  const Image& image() const { return image_; }
  size_t text_size() const { return text_.size(); }
  size_t data_size() const { return data_.size(); }
  // What a placement binds, in this order: the Image's imports (the function each slot holds) and externals.
  const std::vector<const Symbol*>& bound_symbols() const { return bound_; }

  // The text and data as they are at `code` and `data` (data ignored without a data section), with
  // bound[i] the address of bound_symbols()[i]: every field patched, every import slot filled. `text` and
  // `data_out` must hold text_size() and data_size() bytes. A value that does not fit its field is an error.
  Status place(uint64_t code, uint64_t data, std::span<const uint64_t> bound, std::span<uint8_t> text,
               std::span<uint8_t> data_out) const;

 private:
  enum class Base : uint8_t { Code, Data, Bound };  // Code and Data index place()'s bases
  struct Target {
    Base base;
    uint64_t offset;  // in its section, or the index of its binding
  };
  struct Field {
    uint32_t at, instr_end;
    RelocKind kind;
    Base base;
    uint64_t offset;  // from the base: the symbol's offset plus the addend
    uint32_t bound;   // Base::Bound: the binding's index
  };
  struct Slot {
    Base base;
    uint32_t offset, bound;
  };

  [[gnu::cold, gnu::noinline]] Error misuse(size_t bindings) const;
  [[gnu::cold, gnu::noinline]] Error does_not_fit(const Field& f, uint64_t code, uint64_t target) const;

  Image image_;
  std::vector<uint8_t> text_, data_;  // the image's, beside the tables place() reads
  std::vector<Field> fields_;
  std::vector<Slot> slots_;
  std::vector<const Symbol*> bound_;
};

}  // namespace w64stub
