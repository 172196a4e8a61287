// libFuzzer target: any bytes as one of winrun's JSON reports (for the badsignal image) must become a
// RunReport or an error, never a crash; JSON that parses must dump and parse back to the same value.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/exec/wine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const w64stub::Image image = *w64stub::emit(*w64stub::catalog_program("badsignal", w64stub::Variant::Abi), {});
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)w64stub::read_winrun_report(image, text);
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_discarded() && nlohmann::json::parse(json.dump()) != json) std::abort();
  return 0;
}
