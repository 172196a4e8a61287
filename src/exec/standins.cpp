#include "w64stub/exec/standins.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

namespace w64stub {

namespace {

constexpr uint64_t kHandleBase = 0x50;  // GetStdHandle(-10/-11/-12) -> 0x50/0x54/0x58 for fds 0/1/2
constexpr uint64_t kInvalidHandle = ~uint64_t{0};

// Whether [address, address+size) can be read, found without touching it (no fault on bad input).
bool read_remote(uint64_t address, uint64_t size, std::string* copy) {
  char chunk[65536];
  while (size > 0) {
    size_t n = std::min<uint64_t>(size, sizeof chunk);
    iovec local{chunk, n}, remote{reinterpret_cast<void*>(address), n};
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != static_cast<ssize_t>(n)) return false;
    copy->append(chunk, n);
    address += n;
    size -= n;
  }
  return true;
}

bool write_u32(uint64_t address, uint32_t value) {
  iovec local{&value, 4}, remote{reinterpret_cast<void*>(address), 4};
  return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == 4;
}

struct Signature {
  StandIn function;
  std::string_view name;
  std::array<std::string_view, 5> arguments;
  int count;
};

constexpr Signature kSignatures[] = {
    {StandIn::GetStdHandle, "GetStdHandle", {"nStdHandle"}, 1},
    {StandIn::WriteFile, "WriteFile",
     {"hFile", "lpBuffer", "nNumberOfBytesToWrite", "lpNumberOfBytesWritten", "lpOverlapped"}, 5},
    {StandIn::GetLastError, "GetLastError", {}, 0},
};

const Signature& signature(StandIn function) {
  return *std::find_if(std::begin(kSignatures), std::end(kSignatures),
                       [&](const Signature& s) { return s.function == function; });
}

}  // namespace

std::optional<StandIn> find_standin(std::string_view function) {
  for (const Signature& s : kSignatures)
    if (s.name == function) return s.function;
  return std::nullopt;
}

int argument_count(StandIn function) { return signature(function).count; }

std::string_view argument_name(StandIn function, int index) {
  return index >= 0 && index < signature(function).count ? signature(function).arguments[index] : "";
}

uint64_t StandIns::get_std_handle(uint32_t which) {
  switch (static_cast<int32_t>(which)) {  // DWORD nStdHandle: STD_INPUT/OUTPUT/ERROR_HANDLE
    case -10: return kHandleBase + 0;
    case -11: return kHandleBase + 4;
    case -12: return kHandleBase + 8;
  }
  last_error_ = kErrorInvalidHandle;
  return kInvalidHandle;
}

// Like Wine's kernel32: an unreadable buffer means nothing is written, FALSE, ERROR_INVALID_USER_BUFFER.
StandIns::Result StandIns::write_file(const std::array<uint64_t, 5>& args) {
  const uint64_t handle = args[0], buffer = args[1], written_ptr = args[3];
  const auto count = static_cast<uint32_t>(args[2]);  // DWORD nNumberOfBytesToWrite
  auto fail = [&](uint32_t error) {
    if (written_ptr) write_u32(written_ptr, 0);
    last_error_ = error;
    return Result{};
  };
  if (handle != kHandleBase + 4 && handle != kHandleBase + 8) return fail(kErrorInvalidHandle);
  std::string bytes;
  if (!read_remote(buffer, count, &bytes)) return fail(kErrorInvalidUserBuffer);
  if (written_ptr && !write_u32(written_ptr, count)) return fail(kErrorNoAccess);
  const int fd = static_cast<int>((handle - kHandleBase) / 4);
  if (!writer_(fd, bytes)) return fail(kErrorNoAccess);
  return Result{1, fd, std::move(bytes)};
}

StandIns::Result StandIns::call(StandIn function, const std::array<uint64_t, 5>& args) {
  switch (function) {
    case StandIn::GetStdHandle: return Result{get_std_handle(static_cast<uint32_t>(args[0]))};
    case StandIn::WriteFile: return write_file(args);
    case StandIn::GetLastError: return Result{last_error_};
  }
  return Result{};
}

}  // namespace w64stub
