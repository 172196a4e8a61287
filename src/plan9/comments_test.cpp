// Comments taken out, against a plain byte-by-byte reference (the scan strip_comments replaced, kept here as the
// oracle), on hand-picked cases and on random texts of quotes, slashes, stars, escapes and newlines.
#include "comments_p.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <random>

using namespace w64stub;
using namespace w64stub::plan9;

namespace {

// Every byte in order: a quote skips to its close or its line's end; // and /* start comments.
std::optional<std::string> reference(std::string text) {
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      for (++i; i < n && text[i] != c && text[i] != '\n'; ++i)
        if (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n') ++i;
      if (i < n && text[i] == '\n') --i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      for (; i < n && text[i] != '\n'; ++i) text[i] = '\x01';  // left out below
      --i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      const size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) return std::nullopt;
      for (; i < end + 2; ++i)
        if (text[i] != '\n') text[i] = ' ';
      --i;
    }
  }
  std::erase(text, '\x01');
  return text;
}

void check_same(const std::string& text) {
  CAPTURE(text);
  auto ours = strip_comments(text, "t.s");
  auto theirs = reference(text);
  REQUIRE(ours.ok() == theirs.has_value());
  if (theirs) CHECK(*ours == *theirs);
}

}  // namespace

TEST_CASE("comments go as a byte-by-byte scan takes them out") {
  for (const char* text : {"MOVQ AX, BX // x", "DATA m+0(SB)/8, $\"a//b\" // c", "a /* b\n c */ d", "'/' // x",
                           "\"unterminated // x\nMOVQ // y", "a / b", "/", "//", "/**/", "x\\\" // y", "\"\\\"//\" /",
                           "'\\'' /* '\n' */ \"/*\""})
    check_same(text);
  std::mt19937 rng(20121128);
  for (int k = 0; k < 20000; ++k) {
    std::string text(rng() % 40, ' ');
    for (char& c : text) c = "a/*\"'\\\n /"[rng() % 9];
    check_same(text);
  }
}

TEST_CASE("an unterminated /* is refused at its line and column") {
  auto s = strip_comments("MOVQ AX, BX\n  TEXT /* never closed", "f.s");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "f.s:2:8: unterminated /* comment");
  // After // comments left out, on its own line and on the line before.
  s = strip_comments("A // x\nMOVQ /* y */ AX // z\nB // w\n  C /* never", "f.s");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "f.s:4:5: unterminated /* comment");
  s = strip_comments("A // x\nB /* y */ C /* never", "f.s");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "f.s:2:13: unterminated /* comment");
}
