#include "w64stub/emit/emit.hpp"

#include "w64stub/core/frame.hpp"

#include <doctest/doctest.h>

#include <cstring>

#include "../testing/test_support.hpp"
#include "w64stub/core/disasm.hpp"

using namespace w64stub;
using test::emit_catalog;
namespace x86 = asmjit::x86;

TEST_CASE("every catalog combination equals the reference assemblers byte for byte") {
  int compared = 0, refused = 0;
  for (const CatalogStub& stub : catalog_stubs())
    for (const Verdict& v : verify_stub(stub.name, W64STUB_REF_DIR)) {
      CAPTURE(v.stem);
      CHECK_MESSAGE(v.kind != Verdict::Mismatch, v.detail);
      if (v.kind == Verdict::Refused) {
        // No reference: the 64-bit address cannot be a 32-bit count (a linker refuses it too).
        CHECK(v.stem.find(".faithful.abs64.") != std::string::npos);
        CHECK(v.detail.find("32-bit destination cannot hold the 64-bit address") != std::string::npos);
        ++refused;
      }
      compared += v.kind == Verdict::Match;
    }
  CHECK(compared == 48);
  CHECK(refused == 6);
}

TEST_CASE("pre- and post-fix badcallback: identical bytes, different declared frames") {
  for (Variant v : kVariants)
    for (Model m : kModels)
      for (Policy p : kPolicies) {
        if (m == Model::Abs64 && v == Variant::Faithful) continue;
        Image post = emit_catalog("badcallback", v, m, p), pre = emit_catalog("badcallback-prefix", v, m, p);
        CHECK(post.text.bytes == pre.text.bytes);
        const Frame post_frame = analyze_frame(post), pre_frame = analyze_frame(pre);
        CHECK(post_frame.declared == 0);
        CHECK(pre_frame.declared == (v == Variant::Abi ? 56 : 48));
        CHECK(post_frame.explicit_adjust == pre_frame.declared);
        CHECK(post_frame.max_depth() == pre_frame.max_depth());
      }
}

TEST_CASE("property: Zydis decodes every image into exactly the recorded instructions") {
  for (const CatalogStub& stub : catalog_stubs())
    for (Variant v : kVariants)
      for (Model m : kModels)
        for (Policy p : kPolicies) {
          if (m == Model::Abs64 && v == Variant::Faithful) continue;
          Image image = emit_catalog(stub.name, v, m, p);
          uint32_t offset = 0;
          size_t index = 0;
          while (offset < image.code_size) {
            auto d = decode_one({image.text.bytes.data() + offset, image.code_size - offset}, offset);
            REQUIRE(d.ok());
            REQUIRE(index < image.instrs.size());
            CHECK(image.instrs[index].offset == offset);
            CHECK(image.instrs[index].length == d->length);
            offset += d->length;
            ++index;
          }
          CHECK(offset == image.code_size);  // no instruction runs past the code
          CHECK(index == image.instrs.size());
        }
}

TEST_CASE("relocation fields hold the addresses of their symbols") {
  for (Model m : kModels)
    for (Policy p : kPolicies) {
      Image image = emit_catalog("badsignal", Variant::Fixed, m, p);
      REQUIRE(image.relocations.size() == 4);
      for (const Relocation& r : image.relocations) {
        CAPTURE(r.symbol);
        uint64_t target = image.find_symbol(r.symbol)->address + static_cast<uint64_t>(r.addend);
        uint64_t field = 0;
        std::memcpy(&field, image.text.bytes.data() + r.offset, r.kind == RelocKind::Abs64 ? 8 : 4);
        if (r.kind == RelocKind::Rel32)
          CHECK(image.text.address + r.instr_end + static_cast<uint64_t>(static_cast<int32_t>(field)) == target);
        else
          CHECK(field == target);
      }
    }
  Image size = emit_catalog("badsignal", Variant::Fixed, Model::Go2012, Policy::Size);
  CHECK(size.relocations[1].kind == RelocKind::Abs32);  // ba imm32: zero-extended
  Image as = emit_catalog("badsignal", Variant::Fixed, Model::Go2012, Policy::As);
  CHECK(as.relocations[1].kind == RelocKind::Abs32S);  // 48 c7 c2 imm32: sign-extended
}

TEST_CASE("the rip model lays out code, 0xCC padding, slots and data") {
  Image image = emit_catalog("badcallback", Variant::Fixed, Model::Rip);
  CHECK(image.data.bytes.empty());
  const Symbol* slot = image.find_symbol("runtime·GetStdHandle");
  CHECK((slot->address - image.text.address) % 8 == 0);
  CHECK(slot->address - image.text.address >= image.code_size);
  for (uint32_t i = image.code_size; i < slot->address - image.text.address; ++i) CHECK(image.text.bytes[i] == 0xcc);
  const Symbol* msg = image.find_symbol("runtime·badcallbackmsg");
  CHECK(msg->address - image.text.address + msg->size == image.text.bytes.size());

  // Without import slots (their own 8-byte alignment) the data of alignment 1 starts at the 8-byte boundary
  // after 3 bytes of code, not at the next 4-byte one.
  Program bare;
  bare.symbol = "bare";
  bare.instrs = {{x86::Inst::kIdXor, {asmjit::Operand(x86::eax), asmjit::Operand(x86::eax)}}, {x86::Inst::kIdRet, {}}};
  bare.data = {DataSymbol{"value", {1, 2, 3, 4}, 1}};
  auto three = emit(bare, {.model = Model::Rip});
  REQUIRE_MESSAGE(three.ok(), three.error().message);
  CHECK(three->code_size == 3);
  CHECK(three->find_symbol("value")->address == three->text.address + 8);
  const std::vector<uint8_t>& text = three->text.bytes;
  CHECK(std::vector<uint8_t>(text.begin() + 3, text.end()) == std::vector<uint8_t>{0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 1, 2, 3, 4});
}

TEST_CASE("address overrides re-encode the references") {
  auto program = catalog_program("badcallback", Variant::Fixed);
  auto image = emit(*program, {.model = Model::Go2012, .addresses = {*parse_address_override("WriteFile=0x3f0000")}});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  CHECK(image->find_symbol("runtime·WriteFile")->address == 0x3f0000);
  CHECK(image->data.address == 0x3f0000);
  CHECK(image->data.bytes.size() == 0x401020 + 52 - 0x3f0000);
  auto overlap = emit(*program, {.model = Model::Go2012, .addresses = {*parse_address_override("WriteFile=0x402010")}});
  REQUIRE_FALSE(overlap.ok());
  CHECK(overlap.error().message.find("overlaps data") != std::string::npos);
  auto far = emit(*program, {.model = Model::Go2012, .addresses = {*parse_address_override("WriteFile=0x7000000")}});
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message.find("badcallback:1:1: data symbols span") == 0);
}

TEST_CASE("what emit cannot do is an error at the instruction") {
  Program p;
  p.symbol = "t";
  p.source_lines = {"TEXT t(SB),7,$0", "\tMOVQ\tx(SB), (AX)"};
  p.loc = {"t.s", 1, 1};
  p.instrs = {{x86::Inst::kIdMov, {x86::qword_ptr(x86::rax), SymbolMem{"x", 0, 8}}, {"t.s", 2, 2}}};
  auto undeclared = emit(p, {});
  REQUIRE_FALSE(undeclared.ok());
  CHECK(undeclared.error().message == "t.s:2:2: symbol x is neither an import, data nor an external of t");

  p.data = {{"x", {1, 2, 3, 4, 5, 6, 7, 8}, 8}};
  auto mem_to_mem = emit(p, {});
  REQUIRE_FALSE(mem_to_mem.ok());
  CHECK(mem_to_mem.error().message.find("t.s:2:2: asmjit cannot encode \tMOVQ\tx(SB), (AX)") == 0);

  auto abs64 = emit(p, {.model = Model::Abs64});
  REQUIRE_FALSE(abs64.ok());
  CHECK(abs64.error().message.find("t.s:2:2: abs64 model: only a load into a register") == 0);

  auto rip = emit(p, {.model = Model::Rip});
  REQUIRE_FALSE(rip.ok());
  CHECK(rip.error().message.find("t.s:2:2: asmjit cannot encode") == 0);
}

TEST_CASE("go2012: an address past a sign-extended 32-bit field is refused, not encoded in another form") {
  // asmjit would encode [0x80401000] with an addr32 prefix and $0x80401000 into a 64-bit register as a
  // zero-extending mov: forms that a lower address does not have, and that the go2012 linker never made.
  Program p;
  p.symbol = "t";
  p.source_lines = {"TEXT t(SB),7,$0", "\tMOVQ\tx+0x7f000000(SB), DX", "\tMOVQ\t$x+0x7f000000(SB), DX"};
  p.loc = {"t.s", 1, 1};
  p.data = {{"x", {1, 2, 3, 4, 5, 6, 7, 8}, 8}};
  for (int line : {2, 3}) {
    CAPTURE(line);
    const Operand far = line == 2 ? Operand(SymbolMem{"x", 0x7f000000, 8}) : Operand(SymbolAddr{"x", 0x7f000000});
    p.instrs = {{x86::Inst::kIdMov, {asmjit::Operand(x86::rdx), far}, {"t.s", line, 2}}};
    auto high = emit(p, {.model = Model::Go2012, .addresses = {{"data", 0x1401000}}});
    REQUIRE_FALSE(high.ok());
    CHECK(high.error().message == fmt::format("t.s:{}:2: go2012 model: x+0x7f000000 lies at 0x80401000, beyond a "
                                              "sign-extended 32-bit field ({})", line, p.source_lines[line - 1]));
    CHECK(emit(p, {.model = Model::Go2012, .addresses = {{"data", 0x401000}}}).ok());
  }
}

TEST_CASE("labels: backward and forward branches reach their targets (as Zydis reads them)") {
  Program p;
  p.symbol = "t";
  p.loc = {"t.s", 1, 1};
  p.instrs = {Instr::bind("top"),
              {x86::Inst::kIdDec, {x86::ecx}, {}},
              {x86::Inst::kIdJnz, {CodeLabel{"top"}}, {}},
              {x86::Inst::kIdJmp, {CodeLabel{"out"}}, {}},
              {x86::Inst::kIdInt3, {}, {}},
              Instr::bind("out"),
              {x86::Inst::kIdRet, {}, {}}};
  auto image = emit(p, {});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  REQUIRE(image->instrs.size() == 5);  // labels emit nothing
  auto text_of = [&](size_t i) {
    const InstrInfo& info = image->instrs[i];
    return decode_one({image->text.bytes.data() + info.offset, info.length}, image->text.address + info.offset)->text;
  };
  CHECK(text_of(1) == fmt::format("jnz 0x{:016X}", image->text.address));
  CHECK(text_of(2) == fmt::format("jmp 0x{:016X}", image->text.address + image->instrs[4].offset));
  CHECK(analyze_frame(*image).notes.empty());  // both paths reach the RET with RSP where it was
  CHECK(analyze_frame(*image).balanced);
}

TEST_CASE("a symbol declared twice is refused in every model, before anything is laid out") {
  for (const char* twice : {"runtime·WriteFile", "runtime·badcallbackmsg"}) {
    Program p = *catalog_program("badcallback", Variant::Fixed);
    p.externals.push_back(twice);
    for (Model model : kModels) {
      CAPTURE(name(model));
      auto image = emit(p, {.model = model});
      REQUIRE_FALSE(image.ok());
      CHECK(image.error().message == fmt::format("badcallback:1:1: {} is declared twice (as an import, data, external or "
                                                 "function) in runtime·badcallback", twice));
    }
  }
}

TEST_CASE("code that would reach past user space's end is refused, code that ends there is emitted") {
  const Program p = *catalog_program("badsignal", Variant::Fixed);
  for (Model model : {Model::Rip, Model::Abs64}) {
    CAPTURE(name(model));
    const size_t size = emit(p, {model})->text.bytes.size();
    const std::vector<AddressOverride> at_end = {{"code", kUserSpaceEnd - size}};
    CHECK(emit(p, {model, Policy::As, at_end}).ok());
    const std::vector<AddressOverride> past = {{"code", kUserSpaceEnd - size + 1}};
    auto refused = emit(p, {model, Policy::As, past});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.ends_with(fmt::format("code at {:#x}..{:#x} reaches past user space's end (0x800000000000)",
                                                       kUserSpaceEnd - size + 1, kUserSpaceEnd + 1)));
  }
}
