// Command-line options shared by the w64stub verbs.
#pragma once

#include <string>
#include <vector>

#include "w64stub/core/error.hpp"

namespace w64stub::cli {

struct Args {
  std::vector<std::string> positional;
  std::string variant = "faithful", model = "go2012", policy = "as", format;
  std::vector<std::string> addresses;  // --addr NAME=VALUE, repeatable
  std::string ref_dir;
  std::string host = "native";
  std::string symbol;                     // --symbol: a TEXT symbol of a Plan 9 file
  std::vector<std::string> include_dirs;  // -I DIR, repeatable
  int entry_align = 8;
  int timeout_ms = 2000;
  bool live = false, relocate = false, help = false, catalog_page = false;
};

// `allowed` lists the options the verb takes (e.g. {"--variant", "--format"}); others are usage errors.
Expected<Args> parse_args(int argc, char** argv, int first, const std::vector<std::string>& allowed);

}  // namespace w64stub::cli
