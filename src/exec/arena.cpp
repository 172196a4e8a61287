#include "w64stub/exec/arena.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace w64stub {

namespace {

size_t page_ceil(size_t v) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (v + page - 1) & ~(page - 1);
}

Error os_error(std::string_view what) { return Error{fmt::format("code arena: {}: {}", what, std::strerror(errno))}; }

constexpr size_t kWordBits = 64;
bool bit(const uint64_t* bits, size_t index) { return (bits[index / kWordBits] >> (index % kWordBits)) & 1; }
void flip(uint64_t* bits, size_t index) { bits[index / kWordBits] ^= uint64_t{1} << (index % kWordBits); }
// Whether any of bits [from, to) is set: a word at a time.
bool any(const uint64_t* bits, size_t from, size_t to) {
  for (size_t i = from; i < to;) {
    const size_t word = i / kWordBits, shift = i % kWordBits, n = std::min(to - i, kWordBits - shift);
    const uint64_t mask = (n == kWordBits ? ~uint64_t{0} : (uint64_t{1} << n) - 1) << shift;
    if (bits[word] & mask) return true;
    i += n;
  }
  return false;
}

}  // namespace

void CodeArena::FreeBits::operator()(uint64_t* bits) const { std::free(bits); }

Expected<CodeArena> CodeArena::create(const Options& options) {
  CodeArena arena;
  arena.capacity_ = page_ceil(options.capacity ? options.capacity : 1);
  // calloc: a large request is fresh zero pages, touched only where stubs are marked.
  const size_t words = (arena.capacity_ / kGranule + kWordBits - 1) / kWordBits;
  arena.starts_ = Bits(static_cast<uint64_t*>(std::calloc(words, sizeof(uint64_t))));
  arena.ends_ = Bits(static_cast<uint64_t*>(std::calloc(words, sizeof(uint64_t))));
  if (!arena.starts_ || !arena.ends_)
    return Error{fmt::format("code arena: no memory for the marks of {} bytes", arena.capacity_)};
  const int low = options.below_2g ? MAP_32BIT : 0;
  if (!options.force_protected) {
    const int fd = memfd_create("w64stub-arena", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, static_cast<off_t>(arena.capacity_)) == 0) {
      void* exec = mmap(nullptr, arena.capacity_, PROT_READ | PROT_EXEC, MAP_SHARED | low, fd, 0);
      void* write = exec == MAP_FAILED ? MAP_FAILED : mmap(nullptr, arena.capacity_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (write != MAP_FAILED) {
        close(fd);
        arena.mode_ = Mode::DualMapped;
        arena.exec_ = static_cast<uint8_t*>(exec);
        arena.write_ = static_cast<uint8_t*>(write);
        return arena;
      }
      if (exec != MAP_FAILED) munmap(exec, arena.capacity_);
    }
    if (fd >= 0) close(fd);
  }
  void* one = mmap(nullptr, arena.capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | low, -1, 0);
  if (one == MAP_FAILED) return os_error("mmap");
  arena.mode_ = Mode::Protected;
  arena.exec_ = arena.write_ = static_cast<uint8_t*>(one);
  return arena;
}

CodeArena::CodeArena(CodeArena&& other) noexcept { *this = std::move(other); }

CodeArena& CodeArena::operator=(CodeArena&& other) noexcept {
  if (this == &other) return *this;
  unmap();
  mode_ = other.mode_;
  capacity_ = std::exchange(other.capacity_, 0);
  used_ = std::exchange(other.used_, 0);
  write_ = std::exchange(other.write_, nullptr);
  exec_ = std::exchange(other.exec_, nullptr);
  executable_ = std::exchange(other.executable_, false);
  free_ = std::move(other.free_);
  by_size_ = std::move(other.by_size_);
  spare_block_ = std::move(other.spare_block_);
  spare_size_ = std::move(other.spare_size_);
  free_bytes_ = std::exchange(other.free_bytes_, 0);
  starts_ = std::move(other.starts_);
  ends_ = std::move(other.ends_);
  other.free_.clear();
  other.by_size_.clear();
  return *this;
}

void CodeArena::reset() {
  const size_t words = (used_ / kGranule + kWordBits - 1) / kWordBits;  // no mark lies above used_
  if (starts_) std::memset(starts_.get(), 0, words * sizeof(uint64_t));
  if (ends_) std::memset(ends_.get(), 0, words * sizeof(uint64_t));
  used_ = free_bytes_ = 0;
  free_.clear();
  by_size_.clear();
}

void CodeArena::mark(size_t offset, size_t size) {
  if (size == 0) return;  // no granule: nothing to free
  flip(starts_.get(), offset / kGranule);
  flip(ends_.get(), (offset + granules(size)) / kGranule - 1);
}

// [offset, offset + taken) is one block in use: it starts and ends where one does, and none starts inside.
bool CodeArena::is_block(size_t offset, size_t taken) const {
  const size_t first = offset / kGranule, last = (offset + taken) / kGranule - 1;
  return bit(starts_.get(), first) && bit(ends_.get(), last) && !any(starts_.get(), first + 1, last + 1);
}

CodeArena::~CodeArena() { unmap(); }

void CodeArena::unmap() {
  if (exec_) munmap(exec_, capacity_);
  if (write_ && write_ != exec_) munmap(write_, capacity_);
  exec_ = write_ = nullptr;
}

Status CodeArena::writable() {
  if (mode_ != Mode::Protected || !executable_) return Ok{};
  if (mprotect(write_, capacity_, PROT_READ | PROT_WRITE) != 0) return os_error("mprotect read-write");
  executable_ = false;
  return Ok{};
}

// The common case: nothing freed below the bump pointer.
inline Expected<CodeArena::Slot> CodeArena::bump(size_t size, size_t align) {
  const size_t start = (used_ + align - 1) & ~(align - 1);
  if (start > capacity_ || size > capacity_ - start)
    return Error{fmt::format("code arena: {} bytes do not fit ({} of {} used)", size, used_, capacity_)};
  if (auto s = writable(); !s) return s.error();
  if (start > used_) add_free(used_, start - used_);  // an alignment above a granule: the gap is free space
  used_ = start + granules(size);  // capacity_ is a whole number of pages, so of granules
  mark(start, size);
  return Slot{reinterpret_cast<uint64_t>(exec_ + start), {write_ + start, size}};
}

Expected<CodeArena::Slot> CodeArena::allocate(size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) || align > 4096) return Error{fmt::format("code arena: alignment {}", align)};
  if (free_bytes_ != 0) [[unlikely]]
    return allocate_freed(size, align);
  return bump(size, align);
}

Expected<CodeArena::Slot> CodeArena::allocate_freed(size_t size, size_t align) {
  auto fit = size != 0 && size <= capacity_ ? best_fit(granules(size), align) : by_size_.end();
  if (fit == by_size_.end()) return bump(size, align);
  if (auto s = writable(); !s) return s.error();
  const size_t start = take(fit, granules(size), align);
  mark(start, size);
  return Slot{reinterpret_cast<uint64_t>(exec_ + start), {write_ + start, size}};
}

// Best fit: the smallest block that holds `size` at the alignment. The smallest block of at least `size`
// bytes fits unless its start is misaligned; then the smallest of size + align - 1 bytes surely fits.
CodeArena::BySize::iterator CodeArena::best_fit(size_t size, size_t align) {
  auto best = by_size_.lower_bound({size, 0});
  if (best == by_size_.end()) return best;
  const size_t start = (best->second + align - 1) & ~(align - 1);
  return start - best->second <= best->first - size ? best : by_size_.lower_bound({size + align - 1, 0});
}

// What the block has left before and after the stub stays free (its neighbours are in use: nothing to
// coalesce).
size_t CodeArena::take(BySize::iterator fit, size_t size, size_t align) {
  const auto [block, offset] = *fit;
  remove_free(free_.find(offset));
  const size_t start = (offset + align - 1) & ~(align - 1);
  if (start > offset) add_free(offset, start - offset);
  if (offset + block > start + size) add_free(start + size, offset + block - (start + size));
  return start;
}

// The nodes of the last block removed are kept for the next one added: stubs that come and go then
// allocate nothing.
void CodeArena::add_free(size_t offset, size_t size) {
  if (spare_block_) {
    spare_block_.key() = offset;
    spare_block_.mapped() = size;
    free_.insert(std::move(spare_block_));
  } else {
    free_.emplace(offset, size);
  }
  if (spare_size_) {
    spare_size_.value() = {size, offset};
    by_size_.insert(std::move(spare_size_));
  } else {
    by_size_.emplace(size, offset);
  }
  free_bytes_ += size;
}

void CodeArena::remove_free(FreeBlocks::iterator block) {
  free_bytes_ -= block->second;
  auto size_node = by_size_.extract({block->second, block->first});
  auto block_node = free_.extract(block);
  if (!spare_size_) spare_size_ = std::move(size_node);
  if (!spare_block_) spare_block_ = std::move(block_node);
}

Status CodeArena::free(uint64_t address, size_t size) {
  const uint64_t offset = address - reinterpret_cast<uint64_t>(exec_);  // wraps for an address below the arena
  if (size == 0 || offset % kGranule != 0 || offset > used_ || size > used_ - offset)
    return Error{fmt::format("code arena: {:#x} (+{} bytes) was not handed out by this arena", address, size)};
  const size_t taken = granules(size);  // as allocate() took it (used_ is a whole number of granules)
  if (!is_block(offset, taken))
    return Error{fmt::format("code arena: {:#x} (+{} bytes) is not a block in use (freed already, or not the size "
                             "it was allocated with)", address, size)};
  if (auto s = writable(); !s) return s;
  mark(offset, size);  // the marks flip back
  auto next = free_.lower_bound(offset);
  auto prev = next == free_.begin() ? free_.end() : std::prev(next);
  std::memset(write_ + offset, 0xCC, taken);  // int3: a call into freed code traps
  size_t start = offset, end = offset + taken;
  if (prev != free_.end() && prev->first + prev->second == start) {
    start = prev->first;
    remove_free(prev);
  }
  if (next != free_.end() && next->first == end) {
    end += next->second;
    remove_free(next);
  }
  if (end == used_) used_ = start;  // the last block: the bump pointer takes it back
  else add_free(start, end - start);
  return Ok{};
}

Status CodeArena::commit() {
  if (mode_ == Mode::Protected && !executable_) {
    if (mprotect(exec_, capacity_, PROT_READ | PROT_EXEC) != 0) return os_error("mprotect read-execute");
    executable_ = true;
  }
  return Ok{};  // x86-64 keeps instruction fetch coherent with stores; no cache flush
}

}  // namespace w64stub
