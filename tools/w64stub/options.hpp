// The command line: every verb's options, declared once with CLI11. Options that mean the same thing are the
// same option in every verb that takes them; an option a verb takes but cannot honour for the STUB given
// (--variant for a Plan 9 file, --model for an image file) is refused by check_applicable().
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "w64stub/core/error.hpp"

namespace w64stub::cli {

struct Options {
  std::string verb;
  std::vector<std::string> stubs;  // STUB (or FILE.s, FILE.image); verify: any number of catalog stubs
  std::string variant = "faithful", model = "go2012", policy = "as", format;
  std::vector<std::string> addresses;  // --addr NAME=VALUE
  std::string symbol;                  // --symbol: a TEXT symbol of a Plan 9 file
  std::vector<std::string> include_dirs;
  std::vector<std::string> defines;    // -D NAME[=VALUE]
  bool catalog_page = false;           // --catalog-page: the 2012 data page for the stubs' Plan 9 text
  bool long_symbol_jumps = false;      // Plan 9: jumps between TEXT symbols stay rel32 (link's relax off)
  bool keep_going = false;             // asm --keep-going: the symbols that assemble, the errors to stderr
  std::string ref_dir;
  std::string host = "native";
  int entry_rsp_mod16 = 8;
  int64_t nosplit_limit = -1;          // frame --nosplit-limit N: the linker's check on NOSPLIT call chains
  int timeout_ms = 2000;
  bool live = false, relocate = false, strict = false;
  bool each = false;                   // probe --each: every TEXT symbol of a Plan 9 file, in batches
  std::string signature;               // --signature: the stub's own arguments (canaries are passed)
  std::vector<std::string> imports;    // --import NAME=SIGNATURE
  std::vector<std::string> binds;      // --bind NAME=LIB.so:SYMBOL
  std::string object_names = "go";     // obj --names go|c
  std::string symbol_prefix;           // obj --symbol-prefix
  std::string package;                 // obj --package: what a leading · stands for
  std::string output;                  // -o FILE; "" is stdout
  std::string help_verb;               // `w64stub help VERB`
};

// What STUB names: a catalog stub, a Plan 9 file or an image file.
enum class SourceKind { Catalog, Plan9, ImageFile };
SourceKind source_kind(const std::string& stub);

class CommandLine {
 public:
  CommandLine();
  // Parses argv into options(); a usage error is one line, without "w64stub: ".
  // Returns false, having printed help or the version to stdout, when there is nothing more to do.
  Expected<bool> parse(int argc, char** argv);
  const Options& options() const { return options_; }
  // The help text of one verb, or of the whole command.
  std::string help(const std::string& verb = "") const;
  // Whether an option was given on the command line ("--variant", "-I").
  bool given(const std::string& option) const;
  // Refuses options that were given but do not apply to the STUB (or the host) the verb runs on.
  Status check_applicable() const;

 private:
  CLI::App app_;
  Options options_;
};

}  // namespace w64stub::cli
