// Catalog: the Go runtime's 2012 windows/amd64 stubs runtime·badcallback and runtime·badsignal, as Programs.
#pragma once

#include <span>
#include <string_view>

#include "w64stub/core/error.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

// faithful: the 2012 text, which passes the ADDRESS of the length as WriteFile's count.
// fixed: the count loaded by value. abi: fixed, with a frame that aligns both CALLs (DESIGN.md).
enum class Variant { Faithful, Fixed, Abi };
inline constexpr Variant kVariants[] = {Variant::Faithful, Variant::Fixed, Variant::Abi};

std::string_view name(Variant variant);
Expected<Variant> parse_variant(std::string_view text);

struct CatalogStub {
  std::string_view name;     // "badcallback", "badcallback-prefix", "badsignal"
  std::string_view summary;  // one line for `w64stub list`
};
std::span<const CatalogStub> catalog_stubs();

Expected<Program> catalog_program(std::string_view stub, Variant variant);

// The message each stub writes, without its NUL.
std::string_view catalog_message(std::string_view stub);

}  // namespace w64stub
