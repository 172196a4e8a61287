#include "w64stub/core/layout.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "w64stub/catalog/catalog.hpp"

using namespace w64stub;

TEST_CASE("go2012 and abs64 use DESIGN.md's data page - rip places data after the code") {
  Program cb = *catalog_program("badcallback", Variant::Fixed);
  Layout go = *plan_layout(cb, Model::Go2012);
  CHECK(go.code_address == 0x402000);
  CHECK(go.address_of("runtime·GetStdHandle") == 0x401000);
  CHECK(go.address_of("runtime·WriteFile") == 0x401008);
  CHECK(go.address_of("runtime·badcallbacklen") == 0x401010);
  CHECK(go.address_of("runtime·badcallbackmsg") == 0x401020);
  CHECK(go.data_address == 0x401000);

  Program sig = *catalog_program("badsignal", Variant::Fixed);
  Layout abs = *plan_layout(sig, Model::Abs64);
  CHECK(abs.code_address == 0x150002000);
  CHECK(abs.address_of("runtime·badsignallen") == 0x150001014);
  CHECK(abs.address_of("runtime·badsignalmsg") == 0x150001060);

  Layout rip = *plan_layout(sig, Model::Rip);
  CHECK(rip.addresses.empty());
}

TEST_CASE("a Program that names the 2012 symbols but fixes no offsets is laid out like any other") {
  Program p = *catalog_program("badcallback", Variant::Fixed);
  for (Import& i : p.imports) i.data_offset.reset();
  for (DataSymbol& d : p.data) d.data_offset.reset();
  Layout l = *plan_layout(p, Model::Go2012);
  CHECK(l.address_of("runtime·GetStdHandle") == 0x401000);
  CHECK(l.address_of("runtime·WriteFile") == 0x401008);
  CHECK(l.address_of("runtime·badcallbacklen") == 0x401010);
  CHECK(l.address_of("runtime·badcallbackmsg") == 0x401014);  // right after the length, not at 0x401020
  p.data[0].data_offset = 0x40;  // fixed ones first; the rest follow the last of them
  Layout m = *plan_layout(p, Model::Go2012);
  CHECK(m.address_of("runtime·badcallbacklen") == 0x401040);
  CHECK(m.address_of("runtime·GetStdHandle") == 0x401048);
}

// 20,000 data symbols: checked for overlap against each other by sorting (pairwise, with a linear search
// for each symbol's size, this took three minutes at 5,000). Each lies after the last, aligned.
TEST_CASE("a layout of 20,000 data symbols places each after the last, and one moved onto another overlaps it") {
  Program p;
  p.symbol = "many";
  for (int k = 0; k < 20000; ++k) p.data.push_back({fmt::format("d{}", k), std::vector<uint8_t>(k % 3 == 0 ? 4 : 8, 0), 8});
  auto layout = plan_layout(p, Model::Go2012);
  REQUIRE_MESSAGE(layout.ok(), layout.error().message);
  CHECK(layout->address_of("d0") == 0x401000);
  CHECK(layout->address_of("d1") == 0x401008);
  CHECK(layout->address_of("d19999") == 0x401000 + 19999 * 8);
  const std::vector<AddressOverride> moved = {{"d17", 0x401000 + 16 * 8 + 4}};  // into d16's last four bytes
  auto overlap = plan_layout(p, Model::Go2012, moved);
  REQUIRE_FALSE(overlap.ok());
  CHECK(overlap.error().message == "d16 at 0x401080 overlaps d17 at 0x401084");
  // Into its last byte alone, the same; right after it, none.
  const std::vector<AddressOverride> last_byte = {{"d17", 0x401000 + 16 * 8 + 7}};
  CHECK(plan_layout(p, Model::Go2012, last_byte).error().message == "d16 at 0x401080 overlaps d17 at 0x401087");
  const std::vector<AddressOverride> after = {{"d17", 0x401000 + 16 * 8 + 8}};
  CHECK(plan_layout(p, Model::Go2012, after).ok());
}

TEST_CASE("address overrides: by short, dotted or full name - code and data") {
  Program cb = *catalog_program("badcallback", Variant::Fixed);
  std::vector<AddressOverride> o = {*parse_address_override("WriteFile=0x500000"),
                                    *parse_address_override("runtime.badcallbacklen=0x500010"),
                                    *parse_address_override("code=4096")};
  Layout l = *plan_layout(cb, Model::Go2012, o);
  CHECK(l.address_of("runtime·WriteFile") == 0x500000);
  CHECK(l.address_of("runtime·badcallbacklen") == 0x500010);
  CHECK(l.code_address == 4096);

  Layout moved = *plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("data=0x10000")});
  CHECK(moved.address_of("runtime·badcallbackmsg") == 0x10020);
}

TEST_CASE("bad addresses are refused with the reason") {
  Program cb = *catalog_program("badcallback", Variant::Fixed);
  for (const char* bad : {"WriteFile", "=1", "WriteFile=", "WriteFile=0x", "WriteFile=12z", "WriteFile=0x1ffffffffffffffff"})
    CHECK_FALSE(parse_address_override(bad).ok());
  CHECK(parse_address_override("WriteFile").error().message ==
        "malformed address 'WriteFile' (expected NAME=VALUE, e.g. Sleep=0x401008)");

  auto high = plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("WriteFile=0x80000000")});
  REQUIRE_FALSE(high.ok());
  CHECK(high.error().message.find("go2012 model: runtime·WriteFile at 0x80000000 is out of reach") == 0);
  CHECK(plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("data=0x7fff0000"),
                                                         *parse_address_override("WriteFile=0x7ffffff8")}).ok());
  CHECK(plan_layout(cb, Model::Abs64, std::vector{*parse_address_override("WriteFile=0x150000000")}).ok());

  auto unknown = plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("ReadFile=1")});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("known: code, data, GetStdHandle, WriteFile") != std::string::npos);

  CHECK(plan_layout(cb, Model::Rip, std::vector{*parse_address_override("WriteFile=1")}).error().message.find(
            "only 'code' can be set") != std::string::npos);
  CHECK(plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("WriteFile=0x401010")})
            .error().message.find("overlaps") != std::string::npos);
  CHECK_FALSE(plan_layout(cb, Model::Go2012, std::vector{*parse_address_override("code=0xffff900000000000")}).ok());
}

TEST_CASE("model and policy names") {
  CHECK(*parse_model("rip") == Model::Rip);
  CHECK(*parse_policy("size") == Policy::Size);
  CHECK(parse_model("rip32").error().message == "unknown model 'rip32' (expected go2012, rip or abs64)");
  CHECK(parse_policy("fast").error().message == "unknown policy 'fast' (expected as or size)");
}

TEST_CASE("a name that is both an import and a data symbol is refused, not laid out twice") {
  Program p = *catalog_program("badcallback", Variant::Fixed);
  p.data.push_back({"runtime·WriteFile", std::vector<uint8_t>(4, 0), 4});
  auto layout = plan_layout(p, Model::Go2012);
  REQUIRE_FALSE(layout.ok());
  CHECK(layout.error().message == "runtime·WriteFile is declared twice (as an import or data symbol) in runtime·badcallback");
  const Program fixed = *catalog_program("badcallback", Variant::Fixed);  // a Layout views its Program's names
  CHECK_FALSE(plan_layout(fixed, Model::Go2012)->address_of("nope"));
}

TEST_CASE("the layout records the alignment its data keeps only when moved by multiples of it") {
  Program p = *catalog_program("badcallback", Variant::Fixed);
  CHECK(plan_layout(p, Model::Go2012)->data_align == 1);  // every symbol at a fixed offset
  for (Import& i : p.imports) i.data_offset.reset();
  CHECK(plan_layout(p, Model::Go2012)->data_align == 8);  // import slots: 8 bytes, aligned
  p.data[1].data_offset.reset();
  p.data[1].align = 64;
  Layout aligned = *plan_layout(p, Model::Go2012, std::vector{*parse_address_override("data=0x500004")});
  CHECK(aligned.data_align == 64);
  CHECK(*aligned.address_of(p.data[1].symbol) % 64 == 0);
  // An override fixes a symbol where it is given: it is not aligned, and asks nothing of the others.
  std::vector<AddressOverride> fixed = {{p.data[1].symbol, 0x401101}};
  for (const Import& i : p.imports) fixed.push_back({i.symbol, 0x401200 + 8 * fixed.size()});
  auto overridden = plan_layout(p, Model::Go2012, fixed);
  REQUIRE_MESSAGE(overridden.ok(), overridden.error().message);
  CHECK(overridden->data_align == 1);
  CHECK(plan_layout(p, Model::Rip)->data_align == 1);  // rip: the data lies in the text, aligned in it

  for (uint32_t bad : {0u, 3u, 8192u}) {
    p.data[0].align = bad;
    CAPTURE(bad);
    CHECK(plan_layout(p, Model::Rip).error().message ==
          fmt::format("{}: alignment {} is not a power of two from 1 to 4096", p.data[0].symbol, bad));
  }
}
