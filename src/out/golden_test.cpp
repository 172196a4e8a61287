#include "w64stub/out/golden.hpp"

#include <doctest/doctest.h>

#include "../testing/test_support.hpp"

using namespace w64stub;

TEST_CASE("hex parsing: comments, white space, and errors with file:line:col") {
  auto ok = parse_hex("# head\n48 8B\n\tc3  # ret\n", "x.hex");
  REQUIRE(ok.ok());
  CHECK(ok->size() == 3);
  CHECK((*ok)[1] == 0x8b);
  auto bad = parse_hex("48 8b\n00 4g\n", "x.hex");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "x.hex:2:4: expected two hex digits, found '4g'");
  CHECK(parse_hex("4", "y.hex").error().message == "y.hex:1:1: expected two hex digits, found '4'");
  CHECK(read_hex_file("/nonexistent/ref.hex").error().message.find("cannot open") != std::string::npos);
}

TEST_CASE("a mismatch shows offset, both byte strings, both disassemblies and the source line") {
  Image image = test::emit_catalog("badcallback", Variant::Faithful, Model::Go2012);
  auto expected = *read_hex_file(test::ref_path("badcallback.faithful.go2012.as"));
  CHECK(compare_text(expected, image).equal);

  // The reference of the size policy differs in exactly one instruction: mov rdx, imm32 is shorter there.
  auto size = *read_hex_file(test::ref_path("badcallback.faithful.go2012.size"));
  Comparison c = compare_text(size, image);
  CHECK_FALSE(c.equal);
  CHECK(c.diff.find("0020    ba 20 10 40 00") != std::string::npos);
  CHECK(c.diff.find("48 c7 c2 20 10 40 00") != std::string::npos);
  CHECK(c.diff.find("line 9:") != std::string::npos);
  CHECK(c.diff.find("mov edx, 0x401020") != std::string::npos);
  CHECK(c.diff.find("mov rdx, 0x401020") != std::string::npos);
  CHECK(c.diff.find("lengths differ") != std::string::npos);

  // The data tail of the rip model is compared too.
  Image rip = test::emit_catalog("badsignal", Variant::Fixed, Model::Rip);
  auto ref = *read_hex_file(test::ref_path("badsignal.fixed.rip.as"));
  ref[ref.size() - 3] ^= 0x20;
  Comparison d = compare_text(ref, rip);
  CHECK_FALSE(d.equal);
  CHECK(d.diff.find("data expected") != std::string::npos);
}
