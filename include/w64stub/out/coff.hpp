// COFF objects: an Image as an AMD64 object file that a linker takes (mingw-w64's ld), as GNU as would write
// it from the same source: .text, .data, .xdata and .pdata, a symbol table and relocations.
//
// - Every function (Code symbol) whose unwind data derive_unwind can describe and that has a frame gets its
//   UNWIND_INFO in .xdata and a RUNTIME_FUNCTION in .pdata; one it cannot describe gets none, and a note says
//   why (a leaf needs none).
// - .data holds the data symbols in address order, each aligned to the power of two its size needs, at most
//   16 (a 4-byte length at 4, a message at 16); import slots stay out (the linker's table holds them).
// - A reference to an import becomes one to `__imp_FUNCTION`, the import address table entry the linker
//   makes from an import library (libkernel32.a); a reference to an external names it, undefined.
// - Relocations follow GNU as: to a symbol this object defines, against its section's symbol with the offset
//   in the field; a RIP-relative one inside .text resolved in place; REL32 with the bytes between the field
//   and the end of the instruction folded into the field (never REL32_1..5); a sign-extended 32-bit absolute
//   field as binutils' R_X86_64_32S (0x11), which ld checks as signed - IMAGE_REL_AMD64_ADDR32 would let an
//   address at or above 2 GiB through; zero-extended ADDR32; ADDR64; ADDR32NB in .pdata.
// The go2012 model links only with an image base below 2 GiB and without ASLR (ld --image-base=0x400000
// --disable-dynamicbase), as 6l's PE; rip objects are position-independent; abs64 uses ADDR64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

// How a Plan 9 name becomes a linkable one, after the `<>` of a file-local symbol is dropped and a leading ·
// (the file's own package, which go tool asm takes from -p) becomes the package given, or nothing.
//   Go: as Go's linker writes it: the middle dot · becomes '.', the division slash ∕ becomes '/'
//       (runtime·badcallback -> runtime.badcallback; C declares it with __asm__("runtime.badcallback")).
//   C:  '.' and '/' then become '_' too (runtime_badcallback), a plain C identifier.
enum class ObjectNames { Go, C };
Expected<ObjectNames> parse_object_names(std::string_view text);

struct ObjectOptions {
  ObjectNames names = ObjectNames::Go;
  std::string package;  // ·f -> package·f; without one, ·f -> f
  std::string prefix;   // before every name the object defines or refers to, except the __imp_ imports
};

struct ObjectFile {
  std::vector<uint8_t> bytes;
  std::vector<std::string> notes;  // functions written without unwind data, and why
};

std::string object_symbol_name(std::string_view symbol, const ObjectOptions& options);

// The object, or why it cannot be written (a field that cannot hold its value, a name two symbols map to,
// more relocations than a section can count, ...): an object is never written that a linker would misread.
Expected<ObjectFile> write_object(const Image& image, const ObjectOptions& options = {});

}  // namespace w64stub
