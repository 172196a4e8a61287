#include "w64stub/core/image.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include <cstring>

#include "../testing/test_support.hpp"

using namespace w64stub;

TEST_CASE("apply_relocation writes fitting values and refuses the rest") {
  std::vector<uint8_t> text(16, 0);
  uint32_t v32 = 0;
  CHECK(apply_relocation(text, 0x1000, {4, RelocKind::Abs32S, "x", 0, 0}, 0x7ffffff0).ok());
  std::memcpy(&v32, text.data() + 4, 4);
  CHECK(v32 == 0x7ffffff0);
  auto high = apply_relocation(text, 0x1000, {4, RelocKind::Abs32S, "x", 0, 0}, 0x80000000);
  REQUIRE_FALSE(high.ok());
  CHECK(high.error().message == "abs32s relocation at 0x4: x at 0x80000000 does not fit the field");
  CHECK(apply_relocation(text, 0x1000, {4, RelocKind::Abs32, "x", 0, 0}, 0xfffffff0).ok());
  CHECK_FALSE(apply_relocation(text, 0x1000, {4, RelocKind::Abs32, "x", 0, 0}, 0x100000000).ok());
  CHECK(apply_relocation(text, 0x1000, {8, RelocKind::Abs64, "x", 8, 0}, 0x150001000).ok());
  uint64_t v64 = 0;
  std::memcpy(&v64, text.data() + 8, 8);
  CHECK(v64 == 0x150001008);
  CHECK(apply_relocation(text, 0x1000, {0, RelocKind::Rel32, "x", 0, 4}, 0x1010).ok());
  std::memcpy(&v32, text.data(), 4);
  CHECK(v32 == 0x0c);
  CHECK_FALSE(apply_relocation(text, 0x1000, {0, RelocKind::Rel32, "x", 0, 4}, 0x200000000).ok());
  CHECK(apply_relocation(text, 0, {12, RelocKind::Abs64, "x", 0, 0}, 1).error().message.find("outside") !=
        std::string::npos);
}

TEST_CASE("image lookups") {
  Image image = test::emit_catalog("badsignal", Variant::Fixed, Model::Go2012);
  CHECK(image.find_symbol("runtime·badsignalmsg")->size == 55);
  CHECK(image.find_symbol("runtime·WriteFile")->kind == SymbolKind::Import);
  CHECK(image.find_symbol("nope") == nullptr);
  const InstrInfo* first = image.instr_at(0);
  REQUIRE(first);
  CHECK(first->program_index == -1);  // the linker's sub rsp, 48 for the declared $48
  CHECK(image.source_line(*first) == "TEXT runtime·badsignal(SB),7,$48");
  const InstrInfo* after = image.instr_ending_at(first->length);
  CHECK(after == first);
  CHECK(std::none_of(image.relocations.begin(), image.relocations.end(),
                     [&](const Relocation& r) { return r.offset < first->length; }));
  // Every offset of the text and one past it, against a search of the whole map.
  for (uint32_t at = 0; at <= image.text.bytes.size() + 1; ++at) {
    CAPTURE(at);
    const InstrInfo* starting = nullptr;
    const InstrInfo* ending = nullptr;
    for (const InstrInfo& i : image.instrs) {
      if (i.offset == at) starting = &i;
      if (i.offset + i.length == at) ending = &i;
    }
    CHECK(image.instr_at(at) == starting);
    CHECK(image.instr_ending_at(at) == ending);
  }
}
