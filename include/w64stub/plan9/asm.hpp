// Plan 9 (Go) amd64 assembly in, Programs out: one per TEXT symbol, to emit like the catalog's.
//
// The 2012 conventions: operands in source, destination order (CMP keeps Intel order); the size suffix
// (B/W/L/Q) sizes register and memory operands; `x(SP)` is the hardware SP after the linker's `$N` frame
// adjustment and `name+x(FP)` the arguments above the return address; `sym(SB)` is memory at a symbol and
// `$sym(SB)` its address. Symbols are defined with GLOBL/DATA in the file or imported with
// `#pragma dynimport SYMBOL FUNCTION "DLL"`; any other symbol (another TEXT symbol, data of another file,
// the target of a direct CALL/JMP) is an external of the Program, placed by a relocation. Each TEXT symbol
// is its own Program; link (emit/link.hpp) joins those of a file so that calls between them are resolved.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

namespace plan9 {
// Reads a file by path; nullopt when it cannot. Empty: the filesystem.
using SourceReader = std::function<std::optional<std::string>(const std::string& path)>;
}  // namespace plan9

struct Plan9Options {
  std::vector<std::string> include_dirs;
  plan9::SourceReader read;          // empty: the filesystem
  std::vector<std::string> defines;  // NAME or NAME=VALUE, as go tool asm's -D: object-like macros
};

// A whole file as an assembler sees it: an error ends the TEXT symbol it is in (the next TEXT starts afresh),
// and after kMaxPlan9Errors errors the file is not read further - Go's assembler stops at 10 as well.
inline constexpr size_t kMaxPlan9Errors = 10;

struct Plan9Refusal {
  std::string symbol;  // the TEXT symbol it ended; "" outside one (GLOBL, DATA, #pragma)
  Error error;
};

struct Plan9File {
  std::string path;
  std::vector<std::string> symbols;  // every TEXT symbol, in order
  std::vector<Program> programs;     // those that assembled
  std::vector<Plan9Refusal> errors;
  bool stopped = false;              // kMaxPlan9Errors reached: the rest was not read
  SourceLines lines;                 // the file's own lines, for the carets

  // Each error as "file:line:col: error: message", its source line and a caret; then "assembly of FILE
  // failed". "" when there is none.
  std::string report() const;
};

// The file cannot be read or tokenised: Error; anything else is in Plan9File::errors.
Expected<Plan9File> assemble_plan9_file(const std::string& path, const Plan9Options& options = {});

// Every TEXT symbol of the file, in order; any error refuses the file, with Plan9File::report()'s text.
Expected<std::vector<Program>> assemble_plan9(const std::string& path, const Plan9Options& options = {});

// The TEXT symbol `symbol` names among a file's Programs (as assemble_plan9_symbol chooses): its full name,
// or the Program itself.
Expected<std::string> choose_symbol_name(std::span<const Program> programs, const std::string& path, std::string_view symbol);
Expected<Program> choose_symbol(std::vector<Program> programs, const std::string& path, std::string_view symbol);

// One TEXT symbol: "runtime·badcallback", "runtime.badcallback" or "badcallback"; with an empty name the
// file must hold exactly one.
Expected<Program> assemble_plan9_symbol(const std::string& path, std::string_view symbol,
                                        const Plan9Options& options = {});

}  // namespace w64stub
