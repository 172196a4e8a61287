#include "w64stub/exec/arena.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace w64stub {

namespace {

size_t page_ceil(size_t v) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (v + page - 1) & ~(page - 1);
}

Error os_error(std::string_view what) { return Error{fmt::format("code arena: {}: {}", what, std::strerror(errno))}; }

}  // namespace

Expected<CodeArena> CodeArena::create(const Options& options) {
  CodeArena arena;
  arena.capacity_ = page_ceil(options.capacity ? options.capacity : 1);
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
  this->~CodeArena();
  mode_ = other.mode_;
  capacity_ = std::exchange(other.capacity_, 0);
  used_ = std::exchange(other.used_, 0);
  write_ = std::exchange(other.write_, nullptr);
  exec_ = std::exchange(other.exec_, nullptr);
  executable_ = std::exchange(other.executable_, false);
  return *this;
}

CodeArena::~CodeArena() {
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

Expected<CodeArena::Slot> CodeArena::allocate(size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) || align > 4096) return Error{fmt::format("code arena: alignment {}", align)};
  const size_t start = (used_ + align - 1) & ~(align - 1);
  if (start > capacity_ || size > capacity_ - start)
    return Error{fmt::format("code arena: {} bytes do not fit ({} of {} used)", size, used_, capacity_)};
  if (auto s = writable(); !s) return s.error();
  used_ = start + size;
  return Slot{reinterpret_cast<uint64_t>(exec_ + start), {write_ + start, size}};
}

Status CodeArena::commit() {
  if (mode_ == Mode::Protected && !executable_) {
    if (mprotect(exec_, capacity_, PROT_READ | PROT_EXEC) != 0) return os_error("mprotect read-execute");
    executable_ = true;
  }
  return Ok{};  // x86-64 keeps instruction fetch coherent with stores; no cache flush
}

}  // namespace w64stub
