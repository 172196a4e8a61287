#include "w64stub/exec/json.hpp"

#include <doctest/doctest.h>

using namespace w64stub;

TEST_CASE("JSON: what winrun writes reads back exactly, 64-bit integers included") {
  auto j = Json::parse(R"({"image": "a\\b\"c\u001e", "at": 18446744073709551604, "ok": true, "no": false,
                           "calls": [{"args": [1, 2]}, {}], "none": null, "neg": -5})");
  REQUIRE_MESSAGE(j.ok(), j.error().message);
  CHECK((*j)["image"].string() == "a\\b\"c\x1e");
  CHECK((*j)["at"].u64() == 18446744073709551604ull);
  CHECK((*j)["ok"].boolean());
  CHECK_FALSE((*j)["no"].boolean());
  CHECK((*j)["calls"].array().size() == 2);
  CHECK((*j)["calls"].array()[0]["args"].array()[1].u64() == 2);
  CHECK((*j)["none"].kind() == Json::Kind::Null);
  CHECK((*j)["neg"].u64() == 0);  // not an unsigned value
  CHECK((*j)["neg"].i64() == -5);
  CHECK((*j)["at"].i64() == 0);  // does not fit
  CHECK((*j)["missing"]["deeper"].kind() == Json::Kind::Null);
  CHECK_FALSE(j->has("missing"));
}

TEST_CASE("JSON: malformed input is an error with its offset, never a crash") {
  const std::pair<std::string, std::string> cases[] = {
      {"", "JSON: offset 0: unexpected end"},
      {"{", "JSON: offset 1: expected a member name"},
      {"[1,]", "JSON: offset 3: unexpected character ']'"},
      {"{\"a\" 1}", "JSON: offset 5: expected :"},
      {"\"abc", "JSON: offset 4: unterminated string"},
      {"18446744073709551616", "JSON: offset 19: integer out of range"},
      {"1.5", "JSON: offset 1: only integers are expected"},
      {"\"\\q\"", "JSON: offset 3: bad escape \\q"},
      {"\"\\u12\"", "JSON: offset 5: bad \\u escape"},
      {"[] x", "JSON: offset 3: trailing text"},
      {std::string(100, '['), "JSON: offset 65: nesting deeper than 64"},
      {"tru", "JSON: offset 0: expected true"},
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;
    const std::string& expected = c.second;
    CAPTURE(text);
    auto j = Json::parse(text);
    REQUIRE_FALSE(j.ok());
    CHECK(j.error().message == expected);
  }
}
