// libFuzzer target: any bytes as a signature (--signature, --import NAME=SIG, an image file's import) must parse
// or fail with an error; what parses must print and parse back to the same signature - never a crash. Built
// in the asan preset.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "w64stub/core/callconv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace win64 = w64stub::win64;
  auto signature = win64::parse_signature(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!signature) return 0;
  const std::string printed = win64::to_string(*signature);
  auto again = win64::parse_signature(printed);
  if (!again || win64::to_string(*again) != printed || again->count() != signature->count()) std::abort();
  for (int i = 0; i < signature->count(); ++i)
    if (again->params[static_cast<size_t>(i)].name != signature->params[static_cast<size_t>(i)].name ||
        again->params[static_cast<size_t>(i)].type != signature->params[static_cast<size_t>(i)].type)
      std::abort();
  return 0;
}
