// Helpers shared by the tests: the golden references and the catalog combinations.
#pragma once

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/out/golden.hpp"
#include "w64stub/catalog/verify.hpp"

namespace w64stub::test {

inline std::string ref_path(std::string_view stem, std::string_view ext = "hex") {
  return fmt::format("{}/{}.{}", W64STUB_REF_DIR, stem, ext);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Mappings in this process that are writable and executable at once (read here, not with the library's own
// count, so that the two can disagree).
inline int wx_mappings() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);) {
    const std::string perms = line.substr(line.find(' ') + 1, 4);
    count += perms[1] == 'w' && perms[2] == 'x';
  }
  return count;
}

inline Image emit_catalog(std::string_view stub, Variant v, Model m, Policy p = Policy::As) {
  auto program = catalog_program(stub, v);
  auto image = emit(*program, {m, p, {}, std::string(stub)});
  if (!image) throw std::runtime_error(image.error().message);
  return std::move(*image);
}

}  // namespace w64stub::test
