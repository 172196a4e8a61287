// SourceLines against std::getline, the reading its contract names: the same lines, in order, for texts
// with and without a final newline, empty lines, carriage returns and long runs without a newline.
#include "w64stub/core/source_lines.hpp"

#include <doctest/doctest.h>

#include <random>
#include <sstream>

using namespace w64stub;

namespace {

std::vector<std::string> getline_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void check_split(const std::string& text) {
  CAPTURE(text);
  const SourceLines lines = SourceLines::split(text);
  const std::vector<std::string> expected = getline_lines(text);
  REQUIRE(lines.size() == expected.size());
  for (size_t k = 0; k < expected.size(); ++k) CHECK(lines[k] == expected[k]);
}

}  // namespace

TEST_CASE("split reads lines as getline does") {
  for (const char* text : {"", "\n", "\n\n", "a", "a\n", "a\nb", "a\n\nb\n", "x\r\ny\r\n", "\nlast"}) check_split(text);
  std::mt19937 rng(7);
  for (int k = 0; k < 200; ++k) {
    std::string text(rng() % 300, ' ');
    for (char& c : text) c = "ab\n\r\t"[rng() % 5];
    check_split(text);
  }
  check_split(std::string(100000, 'x') + "\n" + std::string(3, 'y'));
}

TEST_CASE("lines given one by one keep their count, an empty last line too, and copies share them") {
  const SourceLines lines({"TEXT f(SB),7,$0", "", ""});
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "TEXT f(SB),7,$0");
  CHECK(lines[2].empty());
  const SourceLines copy = lines;
  CHECK(copy.same(lines));
  CHECK_FALSE(SourceLines({"TEXT f(SB),7,$0", "", ""}).same(lines));
  CHECK(SourceLines().empty());
}
