#include "w64stub/catalog/catalog.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "w64stub/emit/emit.hpp"

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

TEST_CASE("the shared templates: one per stub, variant, model and policy, made once even when threads race for it") {
  // Each thread asks for every combination, in its own order; all must get the same template.
  constexpr int kThreads = 4;
  std::vector<std::vector<const Template*>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&seen, t] {
      for (int pass = 0; pass < 2; ++pass)
        for (const CatalogStub& stub : catalog_stubs())
          for (Variant variant : kVariants)
            for (Model model : kModels)
              for (Policy policy : kPolicies) seen[t].push_back(find_catalog_template(stub.name, variant, model, policy));
    });
  for (std::thread& t : threads) t.join();
  for (int t = 1; t < kThreads; ++t) CHECK(seen[t] == seen[0]);
  const std::vector<const Template*>& all = seen[0];
  const size_t half = all.size() / 2;
  CHECK(std::equal(all.begin(), all.begin() + half, all.begin() + half));  // the second pass: the same
  // Distinct, but the faithful text has no abs64 form: 3 stubs by 2 policies without one.
  CHECK(std::count(all.begin(), all.begin() + half, nullptr) == 6);
  CHECK(std::set<const Template*>(all.begin(), all.begin() + half).size() == half - 6 + 1);

  const Template* fixed = find_catalog_template("badcallback", Variant::Fixed, Model::Go2012, Policy::Size);
  REQUIRE(fixed);
  CHECK(fixed->image().stub == "runtime·badcallback");
  CHECK(fixed->image().policy == Policy::Size);
  const std::vector<AddressOverride> at = {{"code", 0x7000000}, {"data", 0x6000000}};
  auto fresh = emit(*find_catalog_program("badcallback", Variant::Fixed), {Model::Go2012, Policy::Size, at});
  auto placed = fixed->image_at(0x7000000, 0x6000000);
  REQUIRE(placed.ok());
  CHECK(imagefile::write(to_file(*placed)) == imagefile::write(to_file(*fresh)));
  CHECK(find_catalog_template("badcalback", Variant::Fixed, Model::Rip, Policy::As) == nullptr);
  CHECK(find_catalog_template("badsignal", Variant::Fixed, static_cast<Model>(9), Policy::As) == nullptr);
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
