// Listing: an Image shown to people and programs: annotated disassembly, hex, a C array, JSON, raw bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

enum class Format { Listing, Hex, C, Json, Bin, Image };
std::string_view name(Format format);
Expected<Format> parse_format(std::string_view text);

// 16 bytes a line, lowercase, space-separated: the format of testdata/ref/*.hex.
std::string format_hex(std::span<const uint8_t> bytes);
// Offset, address, bytes, Zydis Intel disassembly, relocation and the source line of every instruction.
std::string format_listing(const Image& image);
std::string format_c_array(const Image& image);
std::string format_json(const Image& image);

// The text section in the chosen format (Bin: its raw bytes; Image: the whole Image as an image file).
std::string render(const Image& image, Format format);

// Text for a one-line display: \n, \0 and \xNN for what is not printable ASCII.
std::string escape_text(std::string_view text);


}  // namespace w64stub
