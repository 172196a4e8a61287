// Catalog: the Go runtime's 2012 windows/amd64 stubs runtime·badcallback and runtime·badsignal, as Programs.
#pragma once

#include <span>
#include <string_view>

#include "w64stub/core/error.hpp"
#include "w64stub/core/layout.hpp"
#include "w64stub/core/program.hpp"
#include "w64stub/emit/template.hpp"
#include "w64stub/exec/probe.hpp"

namespace w64stub {

// faithful: the 2012 text, which passes the ADDRESS of the length as WriteFile's count.
// fixed: the count loaded by value. abi: fixed, with a frame that aligns both CALLs (DESIGN.md).
enum class Variant { Faithful, Fixed, Abi };
inline constexpr Variant kVariants[] = {Variant::Faithful, Variant::Fixed, Variant::Abi};

std::string_view name(Variant variant);
std::string_view summary(Variant variant);  // one line for `w64stub list`
Expected<Variant> parse_variant(std::string_view text);

struct CatalogStub {
  std::string_view name;     // "badcallback", "badcallback-prefix", "badsignal"
  std::string_view summary;  // one line for `w64stub list`
};
std::span<const CatalogStub> catalog_stubs();

// A stub's Program, the caller's own copy to change.
Expected<Program> catalog_program(std::string_view stub, Variant variant);
// The catalog's own Program of a stub and variant, built once and shared, for emitting as it is without a
// copy (a copy costs about a third of an emission); nullptr for an unknown stub or variant.
const Program* find_catalog_program(std::string_view stub, Variant variant);

// The catalog's Template of a stub, variant, model and policy (emitted at the model's default addresses),
// made on first use and shared, safe to call from any thread: a catalog stub emitted anywhere (image_at) or
// placed into memory (place) without lowering and encoding it again. nullptr for an unknown stub or
// variant, or where emit refuses the stub in that model (the faithful text has no abs64 form).
const Template* find_catalog_template(std::string_view stub, Variant variant, Model model, Policy policy);

// Puts the 2012 data page's symbols (runtime·GetStdHandle, runtime·badcallbacklen, ...) of any Program at
// DESIGN.md's offsets, as the catalog's own Programs have them: for the same stubs assembled from Plan 9 text.
void place_on_catalog_page(Program& program);

// The message each stub writes, without its NUL.
std::string_view catalog_message(std::string_view stub);

// What the probe should also say about the stubs' calls: the faithful variant's count is the address of the
// length, not its value.
std::span<const Diagnosis> catalog_diagnoses();

}  // namespace w64stub
