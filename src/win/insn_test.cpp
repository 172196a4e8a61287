#include "insn_p.hpp"

#include <doctest/doctest.h>

#include <random>
#include <vector>

using namespace w64stub::unwind_detail;

namespace {

// Byte strings of 1 to 15 bytes, most of them beginning with an instruction. Fixed seed: a failure repeats.
std::vector<std::vector<uint8_t>> random_strings(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out(n);
  for (auto& s : out) {
    s.resize(1 + rng() % 15);
    for (uint8_t& b : s) b = static_cast<uint8_t>(rng());
  }
  return out;
}

void check_agrees(const std::vector<uint8_t>& bytes) {
  const auto fresh = decode_insn_uncached(bytes);
  Insn cached;
  const bool ok = decode_insn(bytes, cached);
  REQUIRE(ok == fresh.has_value());
  if (ok) CHECK(cached == *fresh);
}

}  // namespace

TEST_CASE("the decode cache gives what Zydis gives, through misses, hits and evictions") {
  // More strings than the cache holds, then the same again backwards (hits for the last ones, misses for the
  // evicted), then a few repeated many times among others (hits after their set was refilled).
  const auto strings = random_strings(5000, 1234);
  for (const auto& s : strings) check_agrees(s);
  for (auto it = strings.rbegin(); it != strings.rend(); ++it) check_agrees(*it);
  const auto hot = random_strings(32, 99);
  for (size_t k = 0; k < strings.size(); ++k) {
    check_agrees(strings[k]);
    check_agrees(hot[k % hot.size()]);
  }
}

TEST_CASE("a decoded instruction in brief: operands, and RSP written by implicit operands too") {
  Insn in;
  const std::vector<uint8_t> push_rbx{0x53}, sub_rsp{0x48, 0x83, 0xEC, 0x28}, mov_rax_rsp{0x48, 0x89, 0xE0};
  REQUIRE(decode_insn(push_rbx, in));
  CHECK(in.mnemonic == ZYDIS_MNEMONIC_PUSH);
  CHECK(in.reg(0, ZYDIS_REGISTER_RBX));
  CHECK(in.writes_rsp);  // the push's implicit RSP
  REQUIRE(decode_insn(sub_rsp, in));
  CHECK(in.mnemonic == ZYDIS_MNEMONIC_SUB);
  CHECK(in.reg(0, ZYDIS_REGISTER_RSP));
  CHECK(in.is_imm(1));
  CHECK(in.ops[1].imm == 0x28);
  CHECK(in.writes_rsp);
  REQUIRE(decode_insn(mov_rax_rsp, in));
  CHECK(in.reg(0, ZYDIS_REGISTER_RAX));
  CHECK(in.reg(1, ZYDIS_REGISTER_RSP));
  CHECK_FALSE(in.writes_rsp);  // reads it only
  CHECK_FALSE(decode_insn(std::vector<uint8_t>{0x0F}, in));  // a lone escape byte is no instruction
}
