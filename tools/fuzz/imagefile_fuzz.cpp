// libFuzzer target: any bytes as an image file must parse or fail with an error; what parses must write and
// parse back to the same text, become an Image (decoded) or an error, and that Image a COFF object or an error
// (w64stub obj FILE.image) - never a crash. Built in the asan preset.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "w64stub/core/image.hpp"
#include "w64stub/core/imagefile.hpp"
#include "w64stub/out/coff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace imagefile = w64stub::imagefile;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  imagefile::File file;
  std::string error;
  if (!imagefile::parse(text, "fuzz.image", file, error)) return 0;
  const std::string written = imagefile::write(file);
  imagefile::File again;
  if (!imagefile::parse(written, "again.image", again, error) || imagefile::write(again) != written) std::abort();
  if (auto image = w64stub::from_file(file)) (void)w64stub::write_object(*image);
  return 0;
}
