#include "w64stub/exec/arena.hpp"

#include <doctest/doctest.h>

#include <cstring>

#include "../testing/test_support.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/template.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

// get(): returns the 8 bytes of its own data symbol `value` (rip model: data after the code, in the text).
Template value_getter() {
  Program p;
  p.symbol = "get";
  p.instrs = {{x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolMem{"value", 0, 8}}}, {x86::Inst::kIdRet, {}}};
  p.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}};
  return *Template::make(*emit(p, {.model = Model::Rip}));
}

}  // namespace

TEST_CASE("a code arena holds 10,000 placed stubs that run, and no mapping is ever writable and executable") {
  const Template get = value_getter();
  const Symbol& value = *get.image().find_symbol("value");
  const size_t value_offset = value.address - get.image().text.address;
  for (bool force_protected : {false, true}) {
    CAPTURE(force_protected);
    auto arena = CodeArena::create({.capacity = 1 << 20, .force_protected = force_protected});
    REQUIRE_MESSAGE(arena.ok(), arena.error().message);
    CHECK((arena->mode() == CodeArena::Mode::Protected) == force_protected);
    std::vector<uint64_t> entries;
    for (uint64_t k = 0; k < 10000; ++k) {
      auto slot = arena->allocate(get.text_size());
      REQUIRE_MESSAGE(slot.ok(), slot.error().message);
      REQUIRE(get.place(slot->address, 0, {}, slot->bytes, {}).ok());
      std::memcpy(slot->bytes.data() + value_offset, &k, 8);
      entries.push_back(slot->address);
      if (k % 1000 == 999) REQUIRE(arena->commit().ok());  // batches of 1,000
      if (k == 5000) CHECK(test::wx_mappings() == 0);
    }
    CHECK(test::wx_mappings() == 0);
    for (uint64_t k = 0; k < entries.size(); ++k)
      if (reinterpret_cast<uint64_t (*)()>(entries[k])() != k) FAIL("stub ", k, " returned another's value");
    CHECK(arena->used() <= 10000 * ((get.text_size() + 15) & ~size_t{15}));  // nothing kept per stub
  }
}

TEST_CASE("a code arena refuses what does not fit, and below_2g keeps it low") {
  auto arena = CodeArena::create({.capacity = 4096, .below_2g = true});
  REQUIRE(arena.ok());
  auto first = arena->allocate(4000);
  REQUIRE(first.ok());
  CHECK(first->address + 4096 <= (uint64_t{1} << 31));
  auto full = arena->allocate(200);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().message == "code arena: 200 bytes do not fit (4000 of 4096 used)");
  CHECK(arena->allocate(8, 3).error().message == "code arena: alignment 3");
  arena->reset();
  CHECK(arena->allocate(4096).ok());
}
