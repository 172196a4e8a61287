#include "w64stub/core/install.hpp"

#include <cstdlib>
#include <filesystem>

namespace w64stub {

std::string data_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("W64STUB_DATA_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& candidate : {exe.parent_path() / "share" / "w64stub", exe.parent_path().parent_path() / "share" / "w64stub"})
    if (fs::is_directory(candidate, ec)) return candidate.string();
  return "";
}

}  // namespace w64stub
