#include "w64stub/core/callconv.hpp"

#include <doctest/doctest.h>

using namespace w64stub;
namespace x86 = asmjit::x86;

// The convention as written here must be the one asmjit implements for kX64Windows, so that frames planned
// by asmjit's FuncFrame and by w64stub agree.
TEST_CASE("callconv agrees with asmjit's CallConv for kX64Windows") {
  asmjit::CallConv cc;
  REQUIRE(cc.init(asmjit::CallConvId::kX64Windows, asmjit::Environment(asmjit::Arch::kX64)) == asmjit::kErrorOk);
  CHECK(cc.spillZoneSize() == static_cast<uint32_t>(win64::kHomeArea));
  CHECK(cc.naturalStackAlignment() == static_cast<uint32_t>(win64::kCallAlignment));
  CHECK(cc.redZoneSize() == 0);
  const uint8_t* gp_order = cc.passedOrder(asmjit::RegGroup::kGp);
  for (int i = 0; i < win64::kRegisterArguments; ++i) CHECK(gp_order[i] == win64::kIntegerArguments[i].id);
  const uint8_t* vec_order = cc.passedOrder(asmjit::RegGroup::kVec);
  for (int i = 0; i < win64::kFloatArguments; ++i) CHECK(vec_order[i] == static_cast<uint8_t>(i));

  uint32_t nonvolatile = 0;
  for (const auto& r : win64::kNonvolatileGps) nonvolatile |= 1u << r.id;
  CHECK((cc.preservedRegs(asmjit::RegGroup::kGp) & ~(1u << x86::Gp::kIdSp)) == nonvolatile);
  uint32_t xmm = 0;
  for (int i = 0; i < win64::kNonvolatileXmms; ++i) xmm |= 1u << (win64::kFirstNonvolatileXmm + i);
  CHECK(cc.preservedRegs(asmjit::RegGroup::kVec) == xmm);
  uint32_t volatiles = 0;
  for (const auto& r : win64::kVolatileGps) volatiles |= 1u << r.id;
  CHECK((volatiles | nonvolatile | (1u << x86::Gp::kIdSp)) == 0xFFFF);
  CHECK((volatiles & nonvolatile) == 0);
}

TEST_CASE("argument slots: home slots at entry RSP+8..+32, the fifth at +40") {
  CHECK(win64::entry_slot(0) == 8);
  CHECK(win64::entry_slot(4) == 40);
  CHECK(win64::call_slot(4) == win64::kHomeArea);
}

TEST_CASE("signatures: parse, print, refuse") {
  auto wf = win64::parse_signature("hFile:ptr, lpBuffer:ptr,n:u32,written:out32,lpOverlapped:ptr->bool");
  REQUIRE(wf.ok());
  CHECK(wf->count() == 5);
  CHECK(wf->params[2].name == "n");
  CHECK(wf->params[3].type == win64::ValueType::Out32);
  CHECK(wf->result == win64::ValueType::Bool);
  CHECK(wf->stack_bytes() == 8);
  CHECK(win64::to_string(*wf) == "hFile:ptr,lpBuffer:ptr,n:u32,written:out32,lpOverlapped:ptr->bool");
  auto bare = win64::parse_signature("u32,f64");
  REQUIRE(bare.ok());
  CHECK(bare->params[1].name == "argument 2");
  CHECK(bare->result == win64::ValueType::U64);
  CHECK(win64::to_string(*bare) == "u32,f64->u64");
  CHECK(win64::parse_signature("")->count() == 0);
  CHECK(win64::parse_signature("x:int").error().message.find("unknown type 'int'") == 0);
  CHECK(win64::parse_signature("void").error().message.find("cannot be void") != std::string::npos);
  CHECK(win64::parse_signature(":u32").error().message.find("empty parameter name") == 0);
  // A name is an identifier: one like a generated name would print as none and come back as another.
  CHECK(win64::parse_signature("u32,argument 7:u32").error().message ==
        "parameter name 'argument 7' is not an identifier in signature 'u32,argument 7:u32'");
  CHECK(win64::parse_signature("1st:u32").error().message.find("is not an identifier") != std::string::npos);
  const std::string with_nul("a\0b:u32", 7);
  CHECK(win64::parse_signature(with_nul).error().message.find("is not an identifier") != std::string::npos);
  auto mixed = win64::parse_signature("u32,runtime·x:ptr,_9:u32");
  REQUIRE(mixed.ok());
  CHECK(win64::to_string(*mixed) == "u32,runtime·x:ptr,_9:u32->u64");
}

TEST_CASE("values are shown by type") {
  CHECK(win64::format_value(win64::ValueType::I32, 0xFFFFFFF4) == "-12");
  CHECK(win64::format_value(win64::ValueType::U32, 0xBAD0000000000033) == "51");
  CHECK(win64::format_value(win64::ValueType::Bool, 0x100000000) == "FALSE");
  CHECK(win64::format_value(win64::ValueType::Ptr, 0x401010) == "0x401010");
}
