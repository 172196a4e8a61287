// Stand-ins: kernel32's GetStdHandle, WriteFile and GetLastError as Windows behaves, for native runs on Linux.
// They check what they are given the way Windows does (an unreadable buffer is an error, not a crash) and set
// the same error codes, so a stub's mistakes show up as they would on Windows.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace w64stub {

inline constexpr uint32_t kErrorInvalidHandle = 6;
inline constexpr uint32_t kErrorNoAccess = 998;
inline constexpr uint32_t kErrorInvalidUserBuffer = 1784;

enum class StandIn { GetStdHandle, WriteFile, GetLastError };

// The stand-in for a kernel32 function name, if there is one.
std::optional<StandIn> find_standin(std::string_view function);
// How many arguments the function takes (WriteFile: 5, so its caller owes a 5th at [RSP+32] at the CALL).
int argument_count(StandIn function);
std::string_view argument_name(StandIn function, int index);

class StandIns {
 public:
  // Where WriteFile's bytes go: fd 1 or 2. Returns false when they could not be written.
  using Writer = std::function<bool(int fd, std::string_view bytes)>;
  explicit StandIns(Writer writer) : writer_(std::move(writer)) {}

  struct Result {
    uint64_t value = 0;
    int fd = -1;          // WriteFile: where the bytes went
    std::string written;  // WriteFile: the bytes written
  };
  // args: RCX, RDX, R8, R9 and the 5th argument.
  Result call(StandIn function, const std::array<uint64_t, 5>& args);
  uint32_t last_error() const { return last_error_; }

 private:
  uint64_t get_std_handle(uint32_t which);
  Result write_file(const std::array<uint64_t, 5>& args);

  Writer writer_;
  uint32_t last_error_ = 0;
};

}  // namespace w64stub
