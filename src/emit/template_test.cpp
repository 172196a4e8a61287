// Templates against fresh emission: every catalog stub, variant, model and policy, placed at 40 random
// addresses (fixed seed) by patching, must be byte for byte what emit writes for those addresses.
#include "w64stub/emit/template.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <random>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;

namespace {

// A page-aligned address the model can reach, away from `avoid` by more than a page or two.
uint64_t random_address(std::mt19937_64& rng, Model model, uint64_t avoid = 0) {
  for (;;) {
    const uint64_t limit = model == Model::Go2012 ? (uint64_t{1} << 31) - 0x100000 : uint64_t{1} << 46;
    const uint64_t address = (0x10000 + rng() % (limit - 0x10000)) & ~uint64_t{0xfff};
    if (avoid == 0 || address > avoid + 0x10000 || address + 0x10000 < avoid) return address;
  }
}

}  // namespace

TEST_CASE("a template placed anywhere equals a fresh emission there: every stub, variant, model and policy") {
  std::mt19937_64 rng(20121128);
  int placements = 0;
  for (const CatalogStub& stub : catalog_stubs())
    for (Variant variant : kVariants)
      for (Model model : kModels)
        for (Policy policy : kPolicies) {
          CAPTURE(stub.name);
          CAPTURE(name(variant));
          CAPTURE(name(model));
          CAPTURE(name(policy));
          const Program program = *catalog_program(stub.name, variant);
          auto base = emit(program, {model, policy});
          if (!base) continue;  // the faithful text's MOVL $sym has no abs64 form (emit_test)
          auto made = Template::make(*base);
          REQUIRE(made.ok());
          const std::vector<uint64_t> unbound(made->bound_symbols().size(), 0);  // fresh slots are zero
          for (int k = 0; k < 40; ++k) {
            const uint64_t code = random_address(rng, model);
            const uint64_t data = random_address(rng, model, code);
            std::vector<AddressOverride> at = {{"code", code}};
            if (model != Model::Rip) at.push_back({"data", data});
            auto fresh = emit(program, {model, policy, at});
            REQUIRE_MESSAGE(fresh.ok(), fresh.error().message);
            std::vector<uint8_t> text(made->text_size()), data_bytes(made->data_size());
            REQUIRE(made->place(code, data, unbound, text, data_bytes).ok());
            CHECK(text == fresh->text.bytes);
            CHECK(data_bytes == fresh->data.bytes);
            ++placements;
          }
        }
  CHECK(placements >= 400);
}

TEST_CASE("a template fills its import slots and refuses what a field cannot hold") {
  auto made = Template::make(*emit(*catalog_program("badsignal", Variant::Fixed), {Model::Rip}));
  REQUIRE(made.ok());
  REQUIRE(made->bound_symbols().size() == 2);
  const std::vector<uint64_t> functions = {0x1111222233334444, 0x5555666677778888};
  std::vector<uint8_t> text(made->text_size());
  REQUIRE(made->place(0x7000'0000'0000, 0, functions, text, {}).ok());
  for (size_t k = 0; k < 2; ++k) {
    const Symbol& slot = *made->bound_symbols()[k];
    uint64_t held = 0;
    std::memcpy(&held, text.data() + (slot.address - made->image().text.address), 8);
    CHECK(held == functions[k]);
  }
  CHECK(made->place(0, 0, {}, text, {}).error().message == "runtime·badsignal: 0 bindings given, 2 wanted, or the buffers are smaller than the image");

  auto absolute = Template::make(*emit(*catalog_program("badsignal", Variant::Fixed), {Model::Go2012}));
  std::vector<uint8_t> code(absolute->text_size()), data(absolute->data_size());
  auto far = absolute->place(0x402000, uint64_t{1} << 32, {functions.data(), 2}, code, data);
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message.find("the abs32s field at") != std::string::npos);
}
