// CodeArena: executable memory for many stubs in one mapping, never writable and executable at once.
//
// One memfd is mapped twice: a read-write view the arena writes through and a read-execute view the code
// runs from. Where the kernel refuses the second view (a hardened system: memfd without exec rights), the
// arena falls back to one mapping that is read-write while a batch is written and read-execute after
// commit() - one mprotect per batch, not per stub. Space is handed out by a bump pointer; free() gives a
// block back and allocate() reuses freed space first, best fit. Per live stub the arena keeps two bits, its
// first and last granule marked (2 bits per 16 bytes of capacity, zero pages until used), so that free()
// takes back exactly a block it handed out; per free block a record (coalesced with its neighbours). reset()
// frees everything at once.
//
// Not thread-safe: one arena per thread, or the caller's lock around every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <utility>

#include "w64stub/core/error.hpp"

namespace w64stub {

class CodeArena {
 public:
  enum class Mode { DualMapped, Protected };
  struct Options {
    size_t capacity = size_t{64} << 20;  // bytes, rounded up to pages
    bool below_2g = false;               // for code that reaches absolute 32-bit addresses (go2012)
    bool force_protected = false;        // the fallback, even where dual mapping works (tests)
  };
  struct Slot {
    uint64_t address = 0;         // where the code runs
    std::span<uint8_t> bytes;     // where it is written (valid until commit() in the Protected mode)
  };

  static Expected<CodeArena> create(const Options& options);
  CodeArena(CodeArena&& other) noexcept;
  CodeArena& operator=(CodeArena&& other) noexcept;
  ~CodeArena();

  Mode mode() const { return mode_; }
  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }           // up to the bump pointer, free blocks below it included
  size_t free_bytes() const { return free_bytes_; }  // in free blocks below the bump pointer

  // Space is handed out in granules of 16 bytes: a stub's size is rounded up to them.
  static constexpr size_t kGranule = 16;

  // `size` bytes aligned to `align` (a power of two up to a page). Fails when the arena is full.
  Expected<Slot> allocate(size_t size, size_t align = 16);
  // Everything written since the last commit becomes executable (Protected: the mapping turns read-execute;
  // the next allocate turns it read-write again, so a batch costs two mprotects).
  Status commit();
  // Protected mode: makes the mapping writable again for a batch into space allocated earlier (allocate()
  // does this itself). Dual mapped: nothing to do.
  Status reopen() { return writable(); }
  // Gives back a block allocate() handed out, by its address and the size it was asked for. Its bytes become
  // int3, so that a call into freed code traps (Protected: the mapping turns writable, as for allocate();
  // commit() again before calling into the arena). Refused, changing nothing: a range outside the space
  // handed out, and one that is not exactly a block in use (freed already, part of one, or reaching into the
  // next).
  Status free(uint64_t address, size_t size);
  void reset();

 private:
  CodeArena() = default;
  Status writable();
  void unmap();
  static size_t granules(size_t size) { return (size + kGranule - 1) & ~(kGranule - 1); }
  [[gnu::always_inline]] inline Expected<Slot> bump(size_t size, size_t align);
  [[gnu::cold, gnu::noinline]] Expected<Slot> allocate_freed(size_t size, size_t align);
  using BySize = std::set<std::pair<size_t, size_t>>;  // (size, offset)
  BySize::iterator best_fit(size_t size, size_t align);
  size_t take(BySize::iterator fit, size_t size, size_t align);  // the stub's offset in the block
  void add_free(size_t offset, size_t size);
  using FreeBlocks = std::map<size_t, size_t>;  // offset -> size
  void remove_free(FreeBlocks::iterator block);
  // The blocks in use: a bit per granule where one starts, and one where one ends (its last granule).
  void mark(size_t offset, size_t size);
  bool is_block(size_t offset, size_t taken) const;
  struct FreeBits {
    void operator()(uint64_t* bits) const;
  };
  using Bits = std::unique_ptr<uint64_t[], FreeBits>;

  Mode mode_ = Mode::DualMapped;
  size_t capacity_ = 0, used_ = 0;
  uint8_t* write_ = nullptr;  // the read-write view (Protected: the one mapping)
  uint8_t* exec_ = nullptr;   // the read-execute view (Protected: the same)
  bool executable_ = false;   // Protected: the mapping is read-execute now
  // The free blocks below used_, none adjacent to another or to used_: by offset (to coalesce) and by
  // (size, offset) (to find the best fit).
  FreeBlocks free_;
  BySize by_size_;
  FreeBlocks::node_type spare_block_;  // see add_free
  BySize::node_type spare_size_;
  size_t free_bytes_ = 0;
  Bits starts_, ends_;
};

}  // namespace w64stub
