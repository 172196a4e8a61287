#include "w64stub/core/imagefile.hpp"

#include <doctest/doctest.h>

#include "../testing/test_support.hpp"
#include "w64stub/out/listing.hpp"

using namespace w64stub;

TEST_CASE("image files: every catalog image survives write and parse unchanged") {
  for (const CatalogStub& stub : catalog_stubs())
    for (Model m : kModels)
      for (Variant v : {Variant::Fixed, Variant::Abi}) {
        CAPTURE(stub.name);
        CAPTURE(name(m));
        Image image = test::emit_catalog(stub.name, v, m);
        std::string text = render(image, Format::Image);
        imagefile::File file;
        std::string error;
        REQUIRE_MESSAGE(imagefile::parse(text, "t.image", file, error), error);
        auto back = from_file(file);
        REQUIRE_MESSAGE(back.ok(), back.error().message);
        CHECK(back->text.bytes == image.text.bytes);
        CHECK(back->text.address == image.text.address);
        CHECK(back->data.bytes == image.data.bytes);
        CHECK(back->data.address == image.data.address);
        CHECK(back->symbols.size() == image.symbols.size());
        CHECK(back->relocations.size() == image.relocations.size());
        CHECK(back->model == image.model);
        // The instruction map is rebuilt by decoding: the same boundaries emit recorded.
        REQUIRE(back->instrs.size() == image.instrs.size());
        for (size_t i = 0; i < image.instrs.size(); ++i) CHECK(back->instrs[i].offset == image.instrs[i].offset);
        CHECK(back->unwind == image.unwind);
        CHECK_FALSE(image.unwind.empty());
        CHECK(imagefile::write(file) == text);
      }
}

TEST_CASE("image files: the data's alignment survives write and parse") {
  Program p = *catalog_program("badcallback", Variant::Fixed);
  for (DataSymbol& d : p.data) d.data_offset.reset(), d.align = 16;  // laid out, not fixed: aligned
  Image image = *emit(p, {Model::Go2012});
  REQUIRE(image.data_align == 16);
  const std::string text = render(image, Format::Image);
  CHECK(text.find("\ndata-align 16\n") != std::string::npos);
  imagefile::File file;
  std::string error;
  REQUIRE_MESSAGE(imagefile::parse(text, "t.image", file, error), error);
  CHECK(from_file(file)->data_align == 16);
  CHECK(render(test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012), Format::Image).find("data-align") ==
        std::string::npos);  // the catalog's data lies at fixed offsets: moved by any amount, it stays as it is
}

TEST_CASE("image files: what the format looks like") {
  Image image = test::emit_catalog("badsignal", Variant::Fixed, Model::Go2012);
  std::string text = render(image, Format::Image);
  CHECK(text.starts_with("w64stub-image 1\nstub badsignal\nsymbol runtime·badsignal\nmodel go2012\nentry 0x0\n"));
  CHECK(text.find("\nsection text 0x402000 ") != std::string::npos);
  CHECK(text.find("\nimport runtime·WriteFile 0x401008 8 kernel32.dll WriteFile\n") != std::string::npos);
  CHECK(text.find("\nreloc ") != std::string::npos);
  // sub rsp, 48: the UNWIND_INFO GNU as and llvm-mc write for it (testdata/ref/unwind/stub48)
  const std::string stub48 = test::slurp(test::ref_path("unwind/stub48.xdata"));
  CHECK(text.ends_with("unwind 8\n" + stub48 + "end\n"));
}

TEST_CASE("image files: bad input names the line and what is wrong") {
  const std::string good = render(test::emit_catalog("badsignal", Variant::Abi, Model::Rip), Format::Image);
  auto replace = [&](std::string from, std::string to) {
    std::string s = good;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const std::pair<std::string, std::string> cases[] = {
      {"", "t.image:0: not a w64stub image (the first line must be 'w64stub-image 1')"},
      {"w64stub-image 2\n", "t.image:1: not a w64stub image (the first line must be 'w64stub-image 1')"},
      {replace("model rip", "model far"), "t.image:4: bad model in model"},
      {replace("entry 0x0", "entry 0x"), "t.image:5: bad number in entry"},
      {replace("entry 0x0", "entry 0x100000"), "t.image:"},
      {replace("section text", "section code"), "t.image:8: bad section name in section"},
      {replace("frame 56", "frame -8"), "t.image:7: bad frame size in frame"},
      {replace("end\n", "bogus 1\nend\n"), "unknown directive 'bogus'"},
      // found by fuzz.imagefile: a field ending in carriage returns lost one each time it was written and read
      {replace("kernel32.dll WriteFile", "kernel32.dll WriteFile\r\r"), "a control character (no name or field holds one)"},
      {replace("frame 56\n", "frame 56\ndata-align 3\n"), "t.image:8: bad alignment in data-align"},
      {replace("frame 56\n", "frame 56\ndata-align 0\n"), "t.image:8: bad alignment in data-align"},
      {replace("frame 56\n", "frame 56\ndata-align 8192\n"), "t.image:8: bad alignment in data-align"},
      {replace("end\n", ""), "missing 'end'"},
      {replace("model rip\n", ""), "no model line"},  // found by fuzz.imagefile: it would not write back
      {replace("reloc 0x", "reloc 0xg"), "bad number in reloc"},
      {replace("kernel32.dll WriteFile", "kernel32.dll"), "import takes 5 or 6 fields"},
      {good.substr(0, good.find("section text") + 40), "the file ends inside a byte block"},
  };
  for (const auto& c : cases) {
    const std::string& text = c.first;
    const std::string& expected = c.second;
    imagefile::File f;
    std::string error;
    CAPTURE(expected);
    CHECK_FALSE(imagefile::parse(text, "t.image", f, error));
    CHECK(error.find(expected) != std::string::npos);
  }
}
