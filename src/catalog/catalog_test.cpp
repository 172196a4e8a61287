#include "w64stub/catalog/catalog.hpp"

#include <doctest/doctest.h>

using namespace w64stub;

TEST_CASE("the catalog holds DESIGN.md's stubs and messages") {
  CHECK(catalog_stubs().size() == 3);
  CHECK(catalog_message("badcallback") == "runtime: cgo callback on thread not created by Go.\n");
  CHECK(catalog_message("badcallback").size() == 51);
  CHECK(catalog_message("badsignal") == "runtime: signal received on thread not created by Go.\n");
  CHECK(catalog_message("badsignal").size() == 54);
}

TEST_CASE("the Plan 9 text of each variant is the 2012 text") {
  Program post = *catalog_program("badcallback", Variant::Faithful);
  CHECK(post.symbol == "runtime·badcallback");
  CHECK(post.source_line(1) == "TEXT runtime·badcallback(SB),7,$0");
  CHECK(post.source_line(2) == "\tSUBQ\t$48, SP");
  CHECK(post.source_line(11) == "\tMOVL\t$runtime·badcallbacklen(SB), R8 // count");
  CHECK(post.source_line(20) == "\tRET");
  CHECK(post.declared_frame == 0);

  Program pre = *catalog_program("badcallback-prefix", Variant::Faithful);
  CHECK(pre.source_line(1) == "TEXT runtime·badcallback(SB),7,$48");
  CHECK(pre.declared_frame == 48);
  CHECK(pre.instrs.size() == post.instrs.size() - 2);

  Program fixed = *catalog_program("badsignal", Variant::Fixed);
  CHECK(fixed.source_line(10) == "\tMOVL\truntime·badsignallen(SB), R8 // count");
  Program abi = *catalog_program("badsignal", Variant::Abi);
  CHECK(abi.source_line(1) == "TEXT runtime·badsignal(SB),7,$56");
  CHECK(catalog_program("badcallback", Variant::Abi)->source_line(2) == "\tSUBQ\t$56, SP");
}

TEST_CASE("locations name the stub, line and column") {
  Program p = *catalog_program("badsignal", Variant::Fixed);
  CHECK(p.instrs[0].loc.str() == "badsignal:2:2");
  CHECK(p.loc.str() == "badsignal:1:1");
  CHECK(p.check_symbols().ok());
}

TEST_CASE("the shared program is the one a copy is made of, one per stub and variant") {
  const Program* shared = find_catalog_program("badsignal", Variant::Abi);
  REQUIRE(shared);
  CHECK(shared == find_catalog_program("badsignal", Variant::Abi));
  CHECK(shared != find_catalog_program("badsignal", Variant::Fixed));
  CHECK(shared->symbol == "runtime·badsignal");
  const Program copy = *catalog_program("badsignal", Variant::Abi);
  REQUIRE(copy.instrs.size() == shared->instrs.size());
  for (size_t k = 0; k < copy.instrs.size(); ++k) CHECK(copy.instrs[k].loc.str() == shared->instrs[k].loc.str());
  CHECK(copy.source_line(2) == shared->source_line(2));
}

TEST_CASE("unknown names are clear errors") {
  auto stub = catalog_program("badcalback", Variant::Fixed);
  REQUIRE_FALSE(stub.ok());
  CHECK(stub.error().message == "unknown stub 'badcalback' (expected badcallback, badcallback-prefix or badsignal)");
  auto v = parse_variant("fxed");
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().message == "unknown variant 'fxed' (expected faithful, fixed or abi)");
  CHECK(*parse_variant("abi") == Variant::Abi);
  CHECK(find_catalog_program("badcalback", Variant::Fixed) == nullptr);
  CHECK(find_catalog_program("badsignal", static_cast<Variant>(99)) == nullptr);
}
