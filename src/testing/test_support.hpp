// Helpers shared by the tests: the golden references and the catalog combinations.
#pragma once

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/out/golden.hpp"
#include "w64stub/catalog/verify.hpp"

namespace w64stub::test {

// The signal that ended a child process running `run`, or 0 when it returned (a call into freed code: SIGTRAP).
template <class Run>
int signal_in_child(Run run) {
  const pid_t pid = fork();
  if (pid == 0) {
    run();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

inline std::string ref_path(std::string_view stem, std::string_view ext = "hex") {
  return fmt::format("{}/{}.{}", W64STUB_REF_DIR, stem, ext);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// GNU as's .text for Intel-syntax `source` (binutils: as, objcopy), in a scratch directory of its own; ""
// when the tools are missing or refuse it.
inline std::string gnu_as_text(const std::string& source, std::string_view tag) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-{}-{}", tag, getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.s") << source;
  const std::string cmd =
      fmt::format("cd {} && as --64 -o in.o in.s && objcopy -O binary -j .text in.o in.bin", dir.string());
  const bool ok = std::system(cmd.c_str()) == 0;
  std::string bytes = ok ? slurp((dir / "in.bin").string()) : "";
  std::filesystem::remove_all(dir);
  return bytes;
}

// What a shell command writes to standard output ("" when it cannot run).
inline std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// Writes bytes (an object file, an image) to `path`.
inline void write_bytes(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
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
