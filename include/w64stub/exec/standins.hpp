// Stand-ins: Windows functions imitated for native runs on Linux, as plug-ins. Each declares its DLL, name and
// signature (argument names and types: how its calls are shown and judged), its behaviour, and any findings
// of its own. The harness, the probe and the reports know no Windows function by name; they ask these.
//
// Built in: kernel32's GetStdHandle, WriteFile and GetLastError, which check what they are given the way
// Windows does (an unreadable buffer is an error, not a crash) and set the same error codes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/exec/run_report.hpp"

namespace w64stub {

inline constexpr uint32_t kErrorInvalidHandle = 6;
inline constexpr uint32_t kErrorNoAccess = 998;
inline constexpr uint32_t kErrorInvalidUserBuffer = 1784;

// What a stand-in may do in the process the stub runs in. Memory is reached without faulting: an address the
// stub got wrong is an error value, as Windows makes it, never a crash of the harness.
class StandInContext {
 public:
  virtual ~StandInContext() = default;
  // Copies [address, address+size): false, with nothing copied, when any of it cannot be read.
  virtual bool read(uint64_t address, uint64_t size, std::string& out) = 0;
  virtual bool write(uint64_t address, std::span<const uint8_t> bytes) = 0;
  // Writes to the stub's standard output (1) or error (2): captured, or passed through with --live.
  virtual bool output(int stream, std::string_view bytes) = 0;
  uint32_t last_error = 0;  // the thread's last-error value (SetLastError / GetLastError)
};

struct StandIn {
  std::string dll;       // "kernel32.dll"
  std::string function;  // as the import names it
  win64::Signature signature;
  // Runs in the child, on the harness's own stack; `args` holds every declared argument, in order.
  std::function<uint64_t(StandInContext& context, std::span<const uint64_t> args)> behaviour;
  // Findings of its own about a finished call, beyond what the signature tells (may be empty).
  std::function<void(const CallRecord& call, std::vector<Finding>& out)> findings;
};

// The built-in stand-ins.
std::span<const StandIn> builtin_standins();
// The stand-in for an import's function, or nullptr.
const StandIn* find_standin(std::span<const StandIn> standins, std::string_view function);

// A stand-in that forwards to a host function after the hostile callee has recorded and checked the call, so
// that its result flows back to the stub: called (System V) as uint64_t(uint64_t x 8), the signature's
// integer and pointer arguments first.
StandIn host_function(std::string dll, std::string function, win64::Signature signature, const void* sysv_function);

// The name a stand-in answers to: an import's function ("WriteFile"), an external's symbol ("runtime·f").
std::string callee_name(const Symbol& symbol);
// An import's or external's signature: the one it declares, else its stand-in's, else four unnamed 64-bit
// arguments.
win64::Signature signature_of(const Symbol& import, std::span<const StandIn> standins);

}  // namespace w64stub
