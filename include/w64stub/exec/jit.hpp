// JIT: an Image placed in this process's memory, ready to call. Pages are written while read-write, then
// turned read-execute (code) or left read-write (data): never writable and executable at once.
//
// asmjit 1.9's JitAllocator maps RWX unless dual-mapped, and cannot place memory at a chosen address or
// below 2 GiB (the go2012 model needs both), so mappings are made here with mmap/mprotect.
#pragma once

#include <asmjit/core.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

// An anonymous mapping, unmapped on destruction.
class Mapping {
 public:
  enum class Place { Anywhere, Below2G, Exactly };
  static Expected<Mapping> map(size_t size, Place place, uint64_t address = 0);
  // Anywhere (or below 2 GiB), between two pages of its own that nothing can read or write: a read or write
  // that runs off it faults there, whatever is mapped nearby.
  static Expected<Mapping> map_guarded(size_t size, Place place);
  // Within 1 GiB after `near` (a rel32 from code there reaches it), in 16 MiB steps so that the pages of code
  // and of what it calls do not meet; anywhere when none is free there.
  static Expected<Mapping> map_after(size_t size, uint64_t near);

  Mapping() = default;
  Mapping(Mapping&& other) noexcept { *this = std::move(other); }
  Mapping& operator=(Mapping&& other) noexcept;
  ~Mapping();

  uint8_t* data() const { return data_; }
  uint64_t address() const { return reinterpret_cast<uint64_t>(data_); }
  size_t size() const { return size_; }
  bool empty() const { return data_ == nullptr; }
  Status make_executable();  // read-write -> read-execute

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t guard_ = 0;  // bytes of PROT_NONE on either side, unmapped with it
};

// Code built with asmjit at runtime (trampolines): relocated to its mapping, then made read-execute. With
// `near`, the mapping is tried within 1 GiB after it first (a rel32 from code there reaches it).
Expected<Mapping> load_code(asmjit::CodeHolder& code, uint64_t near = 0);

// An import resolved to a function in this process: matched by function name ("Sleep") or symbol.
struct Binding {
  std::string name;
  const void* address = nullptr;
};

struct InstantiateOptions {
  // Try the Image's own addresses first; otherwise (or if taken) relocate. Relocated, each section keeps its
  // offset in its page, so every alignment emit gave a symbol holds (Image::data_align).
  bool at_image_addresses = true;
  // Relocated, each section between two guard pages (Mapping::map_guarded); at the Image's own addresses,
  // nothing is mapped around it.
  bool guarded = false;
};

class Instance {
 public:
  uint64_t text_address() const { return text_.address() + text_offset_; }  // also the entry point
  uint64_t data_address() const { return data_.empty() ? 0 : data_.address() + data_offset_; }
  bool at_image_addresses() const { return at_image_addresses_; }
  uint64_t address_of(const std::string& symbol) const;  // 0 when unknown

  // Where the image's text begins in memory and how long it is (for offsets of addresses seen at run time).
  std::span<const uint8_t> text() const { return {text_.data() + text_offset_, text_size_}; }

 private:
  friend Expected<Instance> instantiate(const Image&, std::span<const Binding>, const InstantiateOptions&);
  Mapping text_, data_;
  size_t text_offset_ = 0, data_offset_ = 0, text_size_ = 0;
  bool at_image_addresses_ = false;
  std::map<std::string, uint64_t> symbols_;
};

Expected<Instance> instantiate(const Image& image, std::span<const Binding> bindings,
                               const InstantiateOptions& options = {});

}  // namespace w64stub
