#include "w64stub/exec/jit.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace w64stub {

namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
uint64_t page_floor(uint64_t v) { return v & ~(uint64_t{page_size()} - 1); }
uint64_t page_ceil(uint64_t v) { return page_floor(v + page_size() - 1); }

}  // namespace

Expected<Mapping> Mapping::map(size_t size, Place place, uint64_t address) {
  size = page_ceil(size ? size : 1);
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (place == Place::Below2G) flags |= MAP_32BIT;
  if (place == Place::Exactly) flags |= MAP_FIXED_NOREPLACE;
  void* hint = place == Place::Exactly ? reinterpret_cast<void*>(address) : nullptr;
  void* p = mmap(hint, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED)
    return Error{fmt::format("mmap of {} bytes{} failed: {}", size,
                             place == Place::Exactly ? fmt::format(" at {:#x}", address) : "", std::strerror(errno))};
  if (place == Place::Exactly && p != hint) {  // kernels before 4.17 treat the flag as a hint
    munmap(p, size);
    return Error{fmt::format("{:#x} is taken", address)};
  }
  Mapping m;
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = size;
  return m;
}

Expected<Mapping> Mapping::map_after(size_t size, uint64_t near) {
  Expected<Mapping> mapping = Error{"not mapped"};
  for (uint64_t at = page_ceil(near) + (16u << 20); !mapping && at < near + (1ull << 30); at += 16u << 20)
    mapping = map(size, Place::Exactly, at);
  return mapping ? std::move(mapping) : map(size, Place::Anywhere);
}

Expected<Mapping> Mapping::map_guarded(size_t size, Place place) {
  const size_t guard = page_size();
  auto whole = map(page_ceil(size ? size : 1) + 2 * guard, place);
  if (!whole) return whole.error();
  Mapping m;
  m.data_ = std::exchange(whole->data_, nullptr) + guard;
  m.size_ = std::exchange(whole->size_, 0) - 2 * guard;
  m.guard_ = guard;
  if (mprotect(m.data_ - guard, guard, PROT_NONE) != 0 || mprotect(m.data_ + m.size_, guard, PROT_NONE) != 0)
    return Error{fmt::format("mprotect of a guard page failed: {}", std::strerror(errno))};
  return m;
}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_ - guard_, size_ + 2 * guard_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    guard_ = std::exchange(other.guard_, 0);
  }
  return *this;
}

Mapping::~Mapping() {
  if (data_) munmap(data_ - guard_, size_ + 2 * guard_);
}

Status Mapping::make_executable() {
  if (mprotect(data_, size_, PROT_READ | PROT_EXEC) != 0)
    return Error{fmt::format("mprotect to read-execute failed: {}", std::strerror(errno))};
  return Ok{};
}

Expected<Mapping> load_code(asmjit::CodeHolder& code, uint64_t near) {
  if (asmjit::Error err = code.flatten())
    return Error{fmt::format("asmjit flatten: {}", asmjit::DebugUtils::errorAsString(err))};
  if (asmjit::Error err = code.resolveUnresolvedLinks())
    return Error{fmt::format("asmjit links: {}", asmjit::DebugUtils::errorAsString(err))};
  auto mapping = near ? Mapping::map_after(code.codeSize(), near) : Mapping::map(code.codeSize(), Mapping::Place::Anywhere);
  if (!mapping) return mapping.error();
  if (asmjit::Error err = code.relocateToBase(mapping->address()))
    return Error{fmt::format("asmjit relocate: {}", asmjit::DebugUtils::errorAsString(err))};
  code.copyFlattenedData(mapping->data(), mapping->size(), asmjit::CopySectionFlags::kPadTargetBuffer);
  if (auto s = mapping->make_executable(); !s) return s.error();
  return mapping;
}

uint64_t Instance::address_of(const std::string& symbol) const {
  auto it = symbols_.find(symbol);
  return it == symbols_.end() ? 0 : it->second;
}

namespace {

// Maps a section: at its own address when asked and free, else where the model can still reach it. Either
// way at its own offset in a page, so that every alignment emit gave its symbols holds (Image::data_align).
Expected<Mapping> place_section(const Section& section, bool at_image_address, Mapping::Place fallback,
                                bool guarded, size_t* offset, bool* at_image) {
  uint64_t start = page_floor(section.address);
  size_t size = page_ceil(section.address + section.bytes.size()) - start;
  *offset = section.address - start;
  if (at_image_address)
    if (auto m = Mapping::map(size, Mapping::Place::Exactly, start)) return m;
  *at_image = false;
  return guarded ? Mapping::map_guarded(size, fallback) : Mapping::map(size, fallback);
}

}  // namespace

Expected<Instance> instantiate(const Image& image, std::span<const Binding> bindings,
                               const InstantiateOptions& options) {
  Instance inst;
  inst.at_image_addresses_ = options.at_image_addresses;
  const bool has_data = !image.data.bytes.empty();
  if (has_data && options.at_image_addresses &&
      page_floor(image.data.address) < page_ceil(image.text.address + image.text.bytes.size()) &&
      page_floor(image.text.address) < page_ceil(image.data.address + image.data.bytes.size()))
    return Error{fmt::format("{}: .text ({:#x}) and .data ({:#x}) share a page; give them separate pages",
                             image.stub, image.text.address, image.data.address)};

  // Externals are reached by rel32 from the text: keep it low, where a loader puts what it binds them to.
  const bool externals = std::any_of(image.symbols.begin(), image.symbols.end(),
                                     [](const Symbol& s) { return s.kind == SymbolKind::External; });
  auto text = place_section(image.text, options.at_image_addresses,
                            externals ? Mapping::Place::Below2G : Mapping::Place::Anywhere, options.guarded, &inst.text_offset_,
                            &inst.at_image_addresses_);
  if (!text) return Error{fmt::format("{}: {}", image.stub, text.error().message)};
  inst.text_ = std::move(*text);
  inst.text_size_ = image.text.bytes.size();
  if (has_data) {
    // go2012 reaches data through sign-extended 32-bit fields: keep it below 2 GiB.
    auto fallback = image.model == Model::Go2012 ? Mapping::Place::Below2G : Mapping::Place::Anywhere;
    auto data = place_section(image.data, options.at_image_addresses, fallback, options.guarded, &inst.data_offset_,
                              &inst.at_image_addresses_);
    if (!data) return Error{fmt::format("{}: {}", image.stub, data.error().message)};
    inst.data_ = std::move(*data);
  }

  uint8_t* text_bytes = inst.text_.data() + inst.text_offset_;
  std::memcpy(text_bytes, image.text.bytes.data(), image.text.bytes.size());
  if (has_data) std::memcpy(inst.data_.data() + inst.data_offset_, image.data.bytes.data(), image.data.bytes.size());

  // Symbols move with their section.
  for (const Symbol& s : image.symbols) {
    if (s.kind != SymbolKind::External) {
      inst.symbols_[s.name] = image.placed_address(s, inst.text_address(), inst.data_address());
      continue;
    }
    auto b = std::find_if(bindings.begin(), bindings.end(), [&](const Binding& candidate) { return candidate.name == s.name; });
    if (b == bindings.end())
      return Error{fmt::format("{}: {} is external (another TEXT symbol or file) and not bound", image.stub, s.name)};
    inst.symbols_[s.name] = reinterpret_cast<uint64_t>(b->address);
  }
  for (const Relocation& r : image.relocations) {
    auto s = apply_relocation({text_bytes, image.text.bytes.size()}, inst.text_address(), r, inst.address_of(r.symbol));
    if (!s) return Error{fmt::format("{}: placed at {:#x}: {}", image.stub, inst.data_address(), s.error().message)};
  }

  for (const Symbol& s : image.symbols) {
    if (s.kind != SymbolKind::Import) continue;
    auto b = std::find_if(bindings.begin(), bindings.end(),
                          [&](const Binding& candidate) { return candidate.name == s.function || candidate.name == s.name; });
    if (b == bindings.end())
      return Error{fmt::format("{}: import {}!{} ({}) is not bound", image.stub, s.dll, s.function, s.name)};
    // The slot must lie in data the Image owns, never in its code: an image file says where it is.
    const bool in_data = !image.data.bytes.empty() && s.address >= image.data.address &&
                         s.address + 8 <= image.data.address + image.data.bytes.size();
    const bool after_code = s.address >= image.text.address + image.code_size &&
                            s.address + 8 <= image.text.address + image.text.bytes.size();
    if (!in_data && !after_code)
      return Error{fmt::format("{}: import slot {} at {:#x} lies outside the image's data (in its code, or nowhere)",
                               image.stub, s.name, s.address)};
    auto value = reinterpret_cast<uint64_t>(b->address);
    std::memcpy(reinterpret_cast<void*>(inst.address_of(s.name)), &value, 8);
  }

  if (auto s = inst.text_.make_executable(); !s) return s.error();
  return inst;
}

}  // namespace w64stub
