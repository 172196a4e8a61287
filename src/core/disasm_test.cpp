#include "w64stub/core/disasm.hpp"

#include <doctest/doctest.h>

#include "../testing/test_support.hpp"

using namespace w64stub;

TEST_CASE("decoding reference bytes: text, lengths and address fields") {
  // GNU as's bytes for badcallback (go2012): sub rsp, 48 at 0; mov rax, [0x401000] at 0x0f; mov rdx, imm at 0x20.
  auto bytes = *read_hex_file(test::ref_path("badcallback.faithful.go2012.as"));
  auto at = [&](size_t off) { return decode_one({bytes.data() + off, bytes.size() - off}, 0x402000 + off); };

  auto sub = at(0);
  REQUIRE(sub.ok());
  CHECK(sub->text == "sub rsp, 0x30");
  CHECK(sub->length == 4);

  auto load = at(0x0f);
  CHECK(load->text == "mov rax, [0x0000000000401000]");
  CHECK(load->disp.offset == 4);
  CHECK(load->disp.size == 4);
  CHECK_FALSE(load->imm.present());
  CHECK_FALSE(load->rip_relative);

  auto imm = at(0x20);
  CHECK(imm->imm.offset == 3);
  CHECK(imm->imm.size == 4);
  CHECK(imm->imm_signed);
  CHECK(imm->operand_width == 64);

  auto rip = *read_hex_file(test::ref_path("badcallback.fixed.rip.as"));
  auto r = decode_one({rip.data() + 0x0f, rip.size() - 0x0f}, 0x0f);
  CHECK(r->rip_relative);
  CHECK(r->disp.size == 4);
}

TEST_CASE("undecodable bytes are an error, not a crash") {
  const uint8_t truncated[] = {0x48};
  auto d = decode_one(truncated, 0x1000);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "no valid instruction at 0x1000");
  CHECK_FALSE(decode_one({}, 0).ok());
}

TEST_CASE("what an instruction writes: full register names and the direction flag") {
  auto bytes = *read_hex_file(test::ref_path("badcallback.fixed.go2012.as"));
  auto at = [&](size_t off) { return *decode_one({bytes.data() + off, bytes.size() - off}, 0x402000 + off); };
  CHECK(at(0).writes == std::vector<std::string>{"rsp"});  // sub rsp, 0x30 (flags are not listed)
  CHECK(at(0x0f).writes == std::vector<std::string>{"rax"});

  // Encoded by asmjit, decoded by Zydis: sub-registers widen, vector registers name their xmm.
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  asmjit::x86::Assembler a(&code);
  a.xor_(asmjit::x86::esi, asmjit::x86::esi);
  const size_t vex = code.textSection()->buffer().size();
  a.vxorps(asmjit::x86::ymm7, asmjit::x86::ymm7, asmjit::x86::ymm7);
  const size_t std_at = code.textSection()->buffer().size();
  a.std();
  a.cld();
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  auto d = [&](size_t off) { return *decode_one({buf.data() + off, buf.size() - off}, off); };
  CHECK(d(0).writes == std::vector<std::string>{"rsi"});
  CHECK(d(vex).writes == std::vector<std::string>{"xmm7"});
  CHECK(d(std_at).writes_df);
  CHECK_FALSE(d(std_at + 1).writes_df);  // cld restores the contract's state
  CHECK_FALSE(d(0).writes_df);
}

TEST_CASE("what an instruction's memory operand does: read, written (read-modify-write too), or only its address") {
  namespace x86 = asmjit::x86;
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  std::vector<std::pair<size_t, MemoryUse>> expected;
  auto next = [&](MemoryUse use) { expected.push_back({code.textSection()->buffer().size(), use}); };
  next(MemoryUse::Read), a.mov(x86::rax, x86::qword_ptr(x86::rbx, 8));
  next(MemoryUse::Written), a.mov(x86::qword_ptr(x86::rbx, 8), x86::rax);
  next(MemoryUse::Written), a.inc(x86::dword_ptr(x86::rbx));
  next(MemoryUse::AddressOnly), a.lea(x86::rax, x86::ptr(x86::rbx, 8));
  next(MemoryUse::Read), a.push(x86::qword_ptr(x86::rbx));  // its stack write is implicit
  next(MemoryUse::Read), a.call(x86::qword_ptr(x86::rbx));
  next(MemoryUse::None), a.xor_(x86::eax, x86::eax);
  next(MemoryUse::None), a.push(x86::rax);
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  for (const auto& [at, use] : expected) {
    auto d = decode_one({buf.data() + at, buf.size() - at}, at);
    REQUIRE(d.ok());
    CAPTURE(d->text);
    CHECK(d->memory == use);
  }
}
