// kernel32's GetStdHandle, WriteFile and GetLastError, as Wine's kernel32 behaves.
#include "w64stub/exec/standins.hpp"

#include <algorithm>
#include <cstring>

namespace w64stub {

namespace {

constexpr uint64_t kHandleBase = 0x50;  // GetStdHandle(-10/-11/-12) -> 0x50/0x54/0x58 for streams 0/1/2
constexpr uint64_t kInvalidHandle = ~uint64_t{0};

win64::Signature signature(std::string_view text) { return *win64::parse_signature(text); }

uint64_t get_std_handle(StandInContext& context, std::span<const uint64_t> args) {
  switch (static_cast<int32_t>(args[0])) {  // DWORD nStdHandle: STD_INPUT/OUTPUT/ERROR_HANDLE
    case -10: return kHandleBase + 0;
    case -11: return kHandleBase + 4;
    case -12: return kHandleBase + 8;
  }
  context.last_error = kErrorInvalidHandle;
  return kInvalidHandle;
}

// Like Wine's kernel32: an unreadable buffer means nothing is written, FALSE, ERROR_INVALID_USER_BUFFER.
uint64_t write_file(StandInContext& context, std::span<const uint64_t> args) {
  const uint64_t handle = args[0], buffer = args[1], written_ptr = args[3];
  const auto count = static_cast<uint32_t>(args[2]);  // DWORD nNumberOfBytesToWrite
  auto store_written = [&](uint32_t n) {
    uint8_t bytes[4];
    std::memcpy(bytes, &n, 4);
    return context.write(written_ptr, bytes);
  };
  auto fail = [&](uint32_t error) {
    if (written_ptr) store_written(0);
    context.last_error = error;
    return uint64_t{0};
  };
  if (handle != kHandleBase + 4 && handle != kHandleBase + 8) return fail(kErrorInvalidHandle);
  std::string bytes;
  if (!context.read(buffer, count, bytes)) return fail(kErrorInvalidUserBuffer);
  if (written_ptr && !store_written(count)) return fail(kErrorNoAccess);
  if (!context.output(static_cast<int>((handle - kHandleBase) / 4), bytes)) return fail(kErrorNoAccess);
  return 1;
}

const std::vector<StandIn>& kernel32() {
  static const std::vector<StandIn> standins = {
      {"kernel32.dll", "GetStdHandle", signature("nStdHandle:i32->ptr"), get_std_handle, {}},
      {"kernel32.dll", "WriteFile",
       signature("hFile:ptr,lpBuffer:ptr,nNumberOfBytesToWrite:u32,lpNumberOfBytesWritten:out32,lpOverlapped:ptr->bool"),
       write_file, {}},
      {"kernel32.dll", "GetLastError", signature("->u32"),
       [](StandInContext& context, std::span<const uint64_t>) -> uint64_t { return context.last_error; }, {}},
  };
  return standins;
}

}  // namespace

std::span<const StandIn> builtin_standins() { return kernel32(); }

const StandIn* find_standin(std::span<const StandIn> standins, std::string_view function) {
  auto it = std::find_if(standins.begin(), standins.end(), [&](const StandIn& s) { return s.function == function; });
  return it == standins.end() ? nullptr : &*it;
}

StandIn host_function(std::string dll, std::string function, win64::Signature signature, const void* sysv_function) {
  using SysV8 = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
  const auto host = reinterpret_cast<SysV8>(const_cast<void*>(sysv_function));
  return StandIn{std::move(dll), std::move(function), std::move(signature),
                 [host](StandInContext&, std::span<const uint64_t> args) -> uint64_t {
                   uint64_t a[8] = {};
                   std::copy_n(args.begin(), std::min<size_t>(args.size(), 8), a);
                   return host(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
                 },
                 {}};
}

std::string callee_name(const Symbol& symbol) {
  return symbol.kind == SymbolKind::Import && !symbol.function.empty() ? symbol.function : symbol.name;
}

win64::Signature signature_of(const Symbol& import, std::span<const StandIn> standins) {
  if (!import.signature.empty())
    if (auto declared = win64::parse_signature(import.signature)) return *declared;
  if (const StandIn* s = find_standin(standins, callee_name(import))) return s->signature;
  win64::Signature unknown;
  for (const win64::GpRegister& r : win64::kIntegerArguments) unknown.params.push_back({std::string(r.name), win64::ValueType::U64});
  return unknown;
}

}  // namespace w64stub
