// The catalog of hostile and broken images (testdata/hostile): each NAME.s is Intel-syntax code with its
// expected verdict in header comments; NAME.ref beside it holds the bytes GNU as and llvm-mc made of it and its
// [rip + symbol] fields (tools/refgen). A case is adopted as raw bytes plus fields, as a JIT author's code is.
//
// Header lines of NAME.s:
//   # <what the code does>               (the first line)
//   # expect: <rules>                     the violated rules in order, as test::rules prints them; "conformant"
//   # expect-asan: <rules>                where the asan preset's sandbox (a denylist) gives another verdict
//                                         (it then replaces expect, and message-asan replaces message)
//   # message: <text>                     part of the first violation's message
//   # message-asan: <text>                the message under the asan preset, where it differs
//   # failure: <text>                     part of a call's failure finding (the call failed, the ABI was kept)
//   # imports: GetStdHandle WriteFile     kernel32 imports, slots after the code
//   # data: NAME "C string"  |  # data: NAME fill COUNT BYTE
//   # host: native wine                   where it runs (default: native)
//   # expect-wine: <rules>                under Wine, where the verdict differs (winrun sees less than the harness)
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "w64stub/core/disasm.hpp"
#include "w64stub/emit/adopt.hpp"

namespace w64stub::test {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsanBuild = true;
#else
inline constexpr bool kAsanBuild = false;
#endif
#else
inline constexpr bool kAsanBuild = false;
#endif

struct HostileCase {
  std::string name, what, expect, message, failure, expect_wine;
  std::string expect_asan, message_asan;  // as written; load_hostile applies them in the asan build
  bool native = true, wine = false;
  ForeignCode code;

  const std::string& wine_expect() const { return expect_wine.empty() ? expect : expect_wine; }
};

inline std::string hostile_dir() { return std::string(W64STUB_REF_DIR) + "/../hostile"; }

namespace hostile_detail {

inline std::vector<uint8_t> c_string(std::string_view quoted) {
  std::vector<uint8_t> out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    if (quoted[i] != '\\') {
      out.push_back(static_cast<uint8_t>(quoted[i]));
      continue;
    }
    const char c = quoted[++i];
    if (c == 'n') out.push_back('\n');
    else if (c >= '0' && c <= '7') {
      int value = 0;
      for (int digits = 0; digits < 3 && i < quoted.size() && quoted[i] >= '0' && quoted[i] <= '7'; ++digits, ++i)
        value = value * 8 + (quoted[i] - '0');
      --i;
      out.push_back(static_cast<uint8_t>(value));
    } else out.push_back(static_cast<uint8_t>(c));
  }
  return out;
}

inline void header_line(HostileCase& c, const std::string& line) {
  const size_t colon = line.find(": ");
  const std::string key = colon == std::string::npos ? "" : line.substr(2, colon - 2);
  const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
  if (key == "expect") c.expect = value;
  else if (key == "expect-asan") c.expect_asan = value;
  else if (key == "message-asan") c.message_asan = value;
  else if (key == "expect-wine") c.expect_wine = value;
  else if (key == "message") c.message = value;
  else if (key == "failure") c.failure = value;
  else if (key == "host") c.native = value.find("native") != std::string::npos, c.wine = value.find("wine") != std::string::npos;
  else if (key == "imports") {
    std::istringstream names(value);
    for (std::string n; names >> n;) c.code.imports.push_back(Import{n, "kernel32.dll", n, "", {}});
  } else if (key == "data") {
    std::istringstream in(value);
    std::string symbol, how;
    in >> symbol >> std::ws;
    std::getline(in, how);
    std::vector<uint8_t> bytes;
    if (how.starts_with("fill ")) {
      std::istringstream fill(how.substr(5));
      size_t count = 0;
      unsigned byte = 0;
      fill >> count >> std::hex >> byte;
      bytes.assign(count, static_cast<uint8_t>(byte));
    } else bytes = c_string(how);
    c.code.data.push_back(DataSymbol{symbol, std::move(bytes), 8, {}});
  }
}

// ELF's addend counts from the field; adopt's from the symbol: add the bytes from the field to the
// instruction's end (decoded here, by Zydis).
inline int64_t symbol_offset(const std::vector<uint8_t>& code, uint32_t field, int64_t elf_addend) {
  for (uint32_t offset = 0; offset < code.size();) {
    auto d = decode_one({code.data() + offset, code.size() - offset}, offset);
    REQUIRE_MESSAGE(d.ok(), d.error().message);
    if (field < offset + d->length) return elf_addend + (offset + d->length - field);
    offset += d->length;
  }
  FAIL("field past the code");
  return 0;
}

}  // namespace hostile_detail

inline HostileCase load_hostile(const std::string& name) {
  HostileCase c;
  c.name = c.code.name = name;
  std::ifstream source(hostile_dir() + "/" + name + ".s");
  for (std::string line; std::getline(source, line) && line.starts_with("# ");)
    if (c.what.empty()) c.what = line.substr(2);
    else hostile_detail::header_line(c, line);
  // The asan preset's own verdict brings its own message (none: the release message is not its).
  if (kAsanBuild && !c.expect_asan.empty()) c.expect = c.expect_asan, c.message = c.message_asan;
  else if (kAsanBuild && !c.message_asan.empty()) c.message = c.message_asan;
  std::ifstream ref(hostile_dir() + "/" + name + ".ref");
  REQUIRE_MESSAGE(ref, "no " << name << ".ref: run tools/refgen/refgen");
  for (std::string line; std::getline(ref, line);) {
    std::istringstream in(line);
    std::string kind;
    in >> kind;
    if (kind == "text")
      for (unsigned byte; in >> std::hex >> byte;) c.code.code.push_back(static_cast<uint8_t>(byte));
    if (kind == "field") {
      std::string offset, symbol;
      int64_t addend = 0;
      in >> offset >> symbol >> std::dec >> addend;
      const auto at = static_cast<uint32_t>(std::stoul(offset, nullptr, 16));
      c.code.fields.push_back(ForeignField{at, symbol, hostile_detail::symbol_offset(c.code.code, at, addend)});
    }
  }
  return c;
}

inline std::vector<std::string> hostile_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(hostile_dir()))
    if (entry.path().extension() == ".s") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline Image adopt_hostile(const HostileCase& c) {
  auto image = adopt(c.code);
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return std::move(*image);
}

}  // namespace w64stub::test
