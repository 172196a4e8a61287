#include "w64stub/out/listing.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "../testing/test_support.hpp"

using namespace w64stub;


TEST_CASE("hex output is the reference file format") {
  for (Model m : kModels) {
    Image image = test::emit_catalog("badsignal", Variant::Abi, m, Policy::Size);
    CHECK(render(image, Format::Hex) == test::slurp(test::ref_path(reference_stem("badsignal", Variant::Abi, m, Policy::Size))));
  }
}

TEST_CASE("the listing shows address, bytes, disassembly, relocation and source line") {
  Image image = test::emit_catalog("badcallback", Variant::Faithful, Model::Go2012);
  std::string l = format_listing(image);
  CHECK(l.find("0000000000402000 0000  48 83 ec 30") != std::string::npos);
  CHECK(l.find("mov rax, [0x0000000000401000]") != std::string::npos);
  CHECK(l.find("[abs32s GetStdHandle @+4]") != std::string::npos);
  CHECK(l.find("11:  MOVL $runtime·badcallbacklen(SB), R8 // count [abs32 badcallbacklen @+2]") != std::string::npos);
  CHECK(l.find("import slot kernel32.dll!WriteFile") != std::string::npos);
  CHECK(l.find("\"runtime: cgo callback on thread not created by Go.\\n\\0\"") != std::string::npos);

  Image pre = test::emit_catalog("badcallback-prefix", Variant::Fixed, Model::Rip);
  std::string p = format_listing(pre);
  CHECK(p.find("(linker: $48 frame)") != std::string::npos);
  CHECK(p.find("[rel32 WriteFile") != std::string::npos);
}

TEST_CASE("C array, JSON and raw bytes") {
  Image image = test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012);
  std::string c = format_c_array(image);
  CHECK(c.find("static const unsigned char badcallback_go2012_as[98] = {") != std::string::npos);
  CHECK(c.find("  0x48, 0x83, 0xec, 0x30,") != std::string::npos);
  const auto j = nlohmann::json::parse(format_json(image));
  CHECK(j["model"] == "go2012");
  CHECK(j["relocations"][0] == nlohmann::json{{"offset", 19}, {"kind", "abs32s"}, {"symbol", "runtime·GetStdHandle"},
                                              {"addend", 0}});
  CHECK(j["frame"]["calls"][0] == nlohmann::json{{"offset", 0x17}, {"depth", 48}, {"residue", 8}});
  CHECK(j["instructions"][1]["line"] == 3);
  CHECK(j["symbols"][1]["signature"] == "");
  std::string bin = render(image, Format::Bin);
  CHECK(std::vector<uint8_t>(bin.begin(), bin.end()) == image.text.bytes);
  CHECK(parse_format("xml").error().message == "unknown format 'xml' (expected listing, hex, c, json, bin or image)");
}
