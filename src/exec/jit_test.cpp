#include "w64stub/exec/jit.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "../testing/test_support.hpp"

using namespace w64stub;

namespace {

// Mappings of this process that are writable and executable at once.
int dummy_function() { return 0; }
const Binding kBindings[] = {{"GetStdHandle", reinterpret_cast<const void*>(&dummy_function)},
                             {"WriteFile", reinterpret_cast<const void*>(&dummy_function)}};

std::string perms_of(uint64_t address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    uint64_t hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    if (address >= lo && address < hi) return line.substr(line.find(' ') + 1, 4);
  }
  return "";
}

}  // namespace

TEST_CASE("instantiated code is read-execute, data read-write, nothing both") {
  int before = test::wx_mappings();
  for (Model m : kModels) {
    Image image = test::emit_catalog("badcallback", Variant::Fixed, m);
    auto inst = instantiate(image, kBindings, {false});
    REQUIRE_MESSAGE(inst.ok(), inst.error().message);
    CHECK(perms_of(inst->text_address()) == "r-xp");
    if (m != Model::Rip) CHECK(perms_of(inst->data_address()) == "rw-p");
    if (m == Model::Go2012) CHECK(inst->data_address() < (uint64_t{1} << 31));
    CHECK(test::wx_mappings() == before);
  }
}

TEST_CASE("guarded, each relocated section lies between two pages nothing can read, unmapped with it") {
  for (Model m : kModels) {
    CAPTURE(name(m));
    const Image image = test::emit_catalog("badcallback", Variant::Fixed, m);
    uint64_t text_page = 0;
    {
      auto inst = instantiate(image, kBindings, {.at_image_addresses = false, .guarded = true});
      REQUIRE_MESSAGE(inst.ok(), inst.error().message);
      text_page = inst->text_address() & ~uint64_t{0xfff};
      const uint64_t text_end = (inst->text_address() + image.text.bytes.size() + 0xfff) & ~uint64_t{0xfff};
      CHECK(perms_of(text_page) == "r-xp");
      CHECK(perms_of(text_page - 0x1000) == "---p");
      CHECK(perms_of(text_end) == "---p");
      if (!image.data.bytes.empty()) {
        const uint64_t data_page = inst->data_address() & ~uint64_t{0xfff};
        CHECK(perms_of(data_page) == "rw-p");
        CHECK(perms_of(data_page - 0x1000) == "---p");
        CHECK(perms_of((inst->data_address() + image.data.bytes.size() + 0xfff) & ~uint64_t{0xfff}) == "---p");
      }
    }
    CHECK(perms_of(text_page - 0x1000).empty());  // the guards went with the instance
  }
}

TEST_CASE("relocating an image equals emitting it at the new addresses") {
  for (Model m : {Model::Go2012, Model::Abs64})
    for (Policy p : kPolicies) {
      Image image = test::emit_catalog("badsignal", Variant::Fixed, m, p);
      auto inst = instantiate(image, kBindings, {false});
      REQUIRE(inst.ok());
      CHECK_FALSE(inst->at_image_addresses());
      CHECK(inst->data_address() != image.data.address);
      // An independent path: asmjit encodes the stub again with the addresses the loader chose.
      std::vector<AddressOverride> at = {{"code", inst->text_address()}, {"data", inst->data_address()}};
      auto again = emit(*catalog_program("badsignal", Variant::Fixed), {.model = m, .policy = p, .addresses = at});
      REQUIRE_MESSAGE(again.ok(), again.error().message);
      auto placed = inst->text();
      CHECK(std::vector<uint8_t>(placed.begin(), placed.end()) == again->text.bytes);
      CHECK(inst->address_of("runtime·badsignalmsg") == again->find_symbol("runtime·badsignalmsg")->address);
    }
}

TEST_CASE("relocated, each section keeps its offset in its page: the data stays aligned as emit aligned it") {
  // The data starts 4 bytes into its page (a fixed length), the import slots and the message follow, aligned.
  Program p = *catalog_program("badcallback", Variant::Fixed);
  for (Import& i : p.imports) i.data_offset.reset();
  p.data[0].data_offset = 4;
  p.data[1].data_offset.reset();
  p.data[1].align = 16;
  Image image = *emit(p, {Model::Go2012});
  REQUIRE(image.data.address % 4096 == 4);
  REQUIRE(image.data_align == 16);
  auto inst = instantiate(image, kBindings, {false});
  REQUIRE(inst.ok());
  CHECK(inst->data_address() % 4096 == 4);
  CHECK(inst->address_of(p.data[1].symbol) % 16 == 0);
  std::vector<AddressOverride> at = {{"code", inst->text_address()}, {"data", inst->data_address() - 4}};
  auto again = emit(p, {.model = Model::Go2012, .addresses = at});
  REQUIRE_MESSAGE(again.ok(), again.error().message);
  CHECK(inst->address_of(p.data[1].symbol) == again->find_symbol(p.data[1].symbol)->address);
  auto placed = inst->text();
  CHECK(std::vector<uint8_t>(placed.begin(), placed.end()) == again->text.bytes);
}

TEST_CASE("import slots hold the bound functions") {
  Image image = test::emit_catalog("badcallback", Variant::Fixed, Model::Rip);
  auto inst = instantiate(image, kBindings);
  REQUIRE(inst.ok());
  auto slot = *reinterpret_cast<const uint64_t*>(inst->address_of("runtime·WriteFile"));
  CHECK(slot == reinterpret_cast<uint64_t>(&dummy_function));
}

TEST_CASE("instantiation failures are errors") {
  Image image = test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012);
  const Binding one[] = {{"GetStdHandle", reinterpret_cast<const void*>(&dummy_function)}};
  auto unbound = instantiate(image, one);
  REQUIRE_FALSE(unbound.ok());
  CHECK(unbound.error().message == "badcallback: import kernel32.dll!WriteFile (runtime·WriteFile) is not bound");

  auto shared = emit(*catalog_program("badcallback", Variant::Fixed),
                     {.addresses = {{"code", 0x401800}}, .stub = "shared"});
  REQUIRE(shared.ok());
  auto same_page = instantiate(*shared, kBindings);
  REQUIRE_FALSE(same_page.ok());
  CHECK(same_page.error().message.find("share a page") != std::string::npos);

}

TEST_CASE("an image's own addresses are used when free, and a second copy relocates") {
  Image image = test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012);
  auto first = instantiate(image, kBindings);
  REQUIRE(first.ok());
  if (!first->at_image_addresses()) {
    MESSAGE("0x401000 is taken in this process (a sanitizer's or loader's mapping); relocation covers it");
    return;
  }
  CHECK(first->text_address() == 0x402000);
  CHECK(first->data_address() == 0x401000);
  auto second = instantiate(image, kBindings);
  REQUIRE(second.ok());
  CHECK_FALSE(second->at_image_addresses());
}

TEST_CASE("externals: unbound, instantiate names them - bound, a CALL reaches the function and comes back") {
  Program p;
  p.symbol = "caller";
  p.loc = {"t.s", 1, 1};
  p.externals = {"·answer"};
  namespace x86 = asmjit::x86;
  p.instrs = {{x86::Inst::kIdSub, {asmjit::Operand(x86::rsp), asmjit::Operand(asmjit::Imm(40))}},
              {x86::Inst::kIdCall, {SymbolAddr{"·answer", 0}}},
              {x86::Inst::kIdAdd, {asmjit::Operand(x86::rsp), asmjit::Operand(asmjit::Imm(40))}},
              {x86::Inst::kIdRet, {}}};
  int ran = 0;
  for (Model model : {Model::Rip, Model::Go2012}) {
    CAPTURE(name(model));
    auto image = emit(p, {.model = model});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    auto unbound = instantiate(*image, {});
    REQUIRE_FALSE(unbound.ok());
    CHECK(unbound.error().message == "caller: ·answer is external (another TEXT symbol or file) and not bound");
    // The callee: a Win64 function in executable memory of its own, low, within rel32 reach of a text with
    // externals (instantiate keeps it below 2 GiB).
    asmjit::CodeHolder code;
    code.init(asmjit::Environment(asmjit::Arch::kX64));
    x86::Assembler a(&code);
    a.mov(x86::eax, 42);
    a.ret();
    auto callee = load_code(code, 0x1000'0000);
    REQUIRE(callee.ok());
    const Binding binding{"·answer", callee->data()};
    auto bound = instantiate(*image, {&binding, 1}, {.at_image_addresses = false});
    REQUIRE_MESSAGE(bound.ok(), bound.error().message);
    CHECK(reinterpret_cast<uint64_t (*)()>(bound->text_address())() == 42);
    ++ran;
  }
  CHECK(ran == 2);
}
