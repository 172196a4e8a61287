#include "args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace w64stub::cli {

Expected<Args> parse_args(int argc, char** argv, int first, const std::vector<std::string>& allowed) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help = true;
      continue;
    }
    if (arg.starts_with("-I") && std::find(allowed.begin(), allowed.end(), "-I") != allowed.end()) {
      if (arg.size() > 2) args.include_dirs.push_back(arg.substr(2));
      else if (i + 1 < argc) args.include_dirs.push_back(argv[++i]);
      else return Error{"-I needs a directory"};
      continue;
    }
    if (!arg.starts_with("--")) {
      args.positional.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (std::find(allowed.begin(), allowed.end(), arg) == allowed.end())
      return Error{fmt::format("unknown option '{}' (see --help)", arg)};
    if (arg == "--live" || arg == "--relocate" || arg == "--catalog-page") {
      if (has_value) return Error{fmt::format("{} takes no value", arg)};
      (arg == "--live" ? args.live : arg == "--relocate" ? args.relocate : args.catalog_page) = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return Error{fmt::format("{} needs a value", arg)};
      value = argv[++i];
    }
    if (arg == "--variant") args.variant = value;
    else if (arg == "--model") args.model = value;
    else if (arg == "--policy") args.policy = value;
    else if (arg == "--format") args.format = value;
    else if (arg == "--addr") args.addresses.push_back(value);
    else if (arg == "--ref-dir") args.ref_dir = value;
    else if (arg == "--host") args.host = value;
    else if (arg == "--symbol") args.symbol = value;
    else if (arg == "--entry-align") {
      if (value != "8" && value != "0") return Error{fmt::format("--entry-align takes 8 or 0, not '{}'", value)};
      args.entry_align = value == "8" ? 8 : 0;
    } else if (arg == "--timeout") {
      int ms = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc{} || end != value.data() + value.size() || ms <= 0 || ms > 600000)
        return Error{fmt::format("--timeout takes milliseconds from 1 to 600000, not '{}'", value)};
      args.timeout_ms = ms;
    }
  }
  return args;
}

}  // namespace w64stub::cli
