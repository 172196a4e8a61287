// libFuzzer target: any bytes as a Plan 9 file (which may #include itself) must assemble or fail with an
// error; never crash, hang or read out of bounds. Built in the asan preset (clang, W64STUB_FUZZ).
#include <cstddef>
#include <cstdint>
#include <string>

#include "w64stub/emit/emit.hpp"
#include "w64stub/plan9/asm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  w64stub::Plan9Options options{{"inc"}, [&](const std::string&) -> std::optional<std::string> { return text; }};
  auto programs = w64stub::assemble_plan9("fuzz.s", options);
  if (!programs) return 0;
  for (const w64stub::Program& p : *programs)
    for (w64stub::Model m : w64stub::kModels) (void)w64stub::emit(p, {m});
  return 0;
}
