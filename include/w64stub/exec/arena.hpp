// CodeArena: executable memory for many stubs in one mapping, never writable and executable at once.
//
// One memfd is mapped twice: a read-write view the arena writes through and a read-execute view the code
// runs from. Where the kernel refuses the second view (a hardened system: memfd without exec rights), the
// arena falls back to one mapping that is read-write while a batch is written and read-execute after
// commit() - one mprotect per batch, not per stub. Space is handed out by a bump pointer (no bookkeeping per
// stub); free() returns the last allocation, reset() all of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

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
  size_t used() const { return used_; }

  // `size` bytes aligned to `align` (a power of two up to a page). Fails when the arena is full.
  Expected<Slot> allocate(size_t size, size_t align = 16);
  // Everything written since the last commit becomes executable (Protected: the mapping turns read-execute;
  // the next allocate turns it read-write again, so a batch costs two mprotects).
  Status commit();
  // Protected mode: makes the mapping writable again for a batch into space allocated earlier (allocate()
  // does this itself). Dual mapped: nothing to do.
  Status reopen() { return writable(); }
  void reset() { used_ = 0; }

 private:
  CodeArena() = default;
  Status writable();

  Mode mode_ = Mode::DualMapped;
  size_t capacity_ = 0, used_ = 0;
  uint8_t* write_ = nullptr;  // the read-write view (Protected: the one mapping)
  uint8_t* exec_ = nullptr;   // the read-execute view (Protected: the same)
  bool executable_ = false;   // Protected: the mapping is read-execute now
};

}  // namespace w64stub
