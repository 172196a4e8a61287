// Plan 9 (Go) amd64 assembly in, Programs out: one per TEXT symbol, to emit like the catalog's.
//
// The 2012 conventions: operands in source, destination order (CMP keeps Intel order); the size suffix
// (B/W/L/Q) sizes register and memory operands; `x(SP)` is the hardware SP after the linker's `$N` frame
// adjustment and `name+x(FP)` the arguments above the return address; `sym(SB)` is memory at a symbol and
// `$sym(SB)` its address. Symbols are defined with GLOBL/DATA in the file or imported with
// `#pragma dynimport SYMBOL FUNCTION "DLL"`. Direct CALL/JMP to other symbols is refused: each TEXT symbol is
// its own Image.
#pragma once

#include <functional>
#include <optional>
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
  plan9::SourceReader read;  // empty: the filesystem
};

// Every TEXT symbol of the file, in order.
Expected<std::vector<Program>> assemble_plan9(const std::string& path, const Plan9Options& options = {});

// One TEXT symbol: "runtime·badcallback", "runtime.badcallback" or "badcallback"; with an empty name the
// file must hold exactly one.
Expected<Program> assemble_plan9_symbol(const std::string& path, std::string_view symbol,
                                        const Plan9Options& options = {});

}  // namespace w64stub
