#include "w64stub/win/unwind.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "../testing/test_support.hpp"
#include "w64stub/out/listing.hpp"

using namespace w64stub;
namespace fs = std::filesystem;
namespace x86 = asmjit::x86;

namespace {

const std::string kUnwindRefs = std::string(W64STUB_REF_DIR) + "/unwind";

std::vector<uint8_t> hex_file(const std::string& path) {
  auto bytes = read_hex_file(path);
  REQUIRE_MESSAGE(bytes.ok(), bytes.error().message);
  return *bytes;
}

// An Image of raw code, its instructions found by decoding (as for an image file).
Image image_of(const std::vector<uint8_t>& code, std::string name = "f") {
  imagefile::File f;
  f.stub = f.symbol = std::move(name);
  f.model = "rip";
  f.code_size = static_cast<uint32_t>(code.size());
  f.sections.push_back({"text", 0x140001000, code});
  auto image = from_file(f);
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return std::move(*image);
}

// An Image of a Program written as asmjit instructions, one source line each.
Image image_of(std::vector<Instr> instrs) {
  Program p;
  p.symbol = "t";
  for (size_t i = 0; i < instrs.size(); ++i) instrs[i].loc = {"t.s", static_cast<int>(i + 1), 2};
  p.instrs = std::move(instrs);
  auto image = emit(p, {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return std::move(*image);
}

}  // namespace

TEST_CASE("acceptance 1: the unwind bytes of every refgen prologue equal GNU as and llvm-mc's .xdata") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kUnwindRefs)) {
    const std::string path = entry.path().string();
    if (!path.ends_with(".text.hex")) continue;
    const std::string stem = path.substr(0, path.size() - 9);
    CAPTURE(stem);
    const Image image = image_of(hex_file(path));
    auto info = derive_unwind(image);
    REQUIRE_MESSAGE(info.ok(), info.error().message);
    const std::vector<uint8_t> want = hex_file(stem + ".xdata.hex");
    CHECK(format_hex(info->encode()) == format_hex(want));
    auto decoded = UnwindInfo::decode(want);  // and the reader reads the references back
    REQUIRE(decoded.ok());
    CHECK(decoded->encode() == want);
    ++count;
  }
  CHECK(count >= 36);
}

TEST_CASE("the catalog stubs' frames: sub rsp, 48 (56 for abi) is the whole prolog, add rsp, ret the epilog") {
  for (const char* stub : {"badcallback", "badcallback-prefix", "badsignal"})
    for (Variant v : kVariants)
      for (Model m : kModels) {
        if (m == Model::Abs64 && v == Variant::Faithful) continue;
        CAPTURE(stub);
        CAPTURE(name(v));
        CAPTURE(name(m));
        auto info = derive_unwind(test::emit_catalog(stub, v, m));
        REQUIRE_MESSAGE(info.ok(), info.error().message);
        const std::string ref = kUnwindRefs + (v == Variant::Abi ? "/stub56.xdata.hex" : "/stub48.xdata.hex");
        CHECK(info->encode() == hex_file(ref));
      }
}

TEST_CASE("acceptance 4: stack changes unwind data cannot describe are refused, each with its instruction") {
  namespace I = x86::Inst;
  const auto rsp = x86::rsp;
  auto imm = [](int64_t v) { return asmjit::Operand(asmjit::Imm(v)); };
  const std::pair<std::vector<Instr>, std::string> cases[] = {
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdPush, {x86::rax}}, {I::kIdAdd, {rsp, imm(48)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x4 push rax): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdCall, {x86::rax}}, {I::kIdRet, {}}},
       "t.s:3:2 (+0x6 ret): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdAdd, {rsp, imm(32)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x4 add rsp, 0x20): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
      {{{I::kIdPush, {x86::rbx}}, {I::kIdPush, {x86::rsi}}, {I::kIdPop, {x86::rbx}}, {I::kIdPop, {x86::rsi}}, {I::kIdRet, {}}},
       "t.s:3:2 (+0x2 pop rbx): RSP changes after the prolog here, and not as the canonical epilog (pop rsi; pop rbx; ret)"},
      {{{I::kIdMov, {x86::rbp, rsp}}, {I::kIdAnd, {rsp, imm(-16)}}, {I::kIdMov, {rsp, x86::rbp}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x3 and rsp, 0xFFFFFFFFFFFFFFF0): RSP changes after the prolog here, and not as the canonical epilog (ret)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdSub, {rsp, x86::rcx}}, {I::kIdAdd, {rsp, imm(40)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x4 sub rsp, rcx): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdAdd, {rsp, imm(40)}}, {I::kIdRet, {imm(8)}}},
       "t.s:3:2 (+0x8 ret 0x08): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
      {{{I::kIdSub, {rsp, imm(44)}}, {I::kIdAdd, {rsp, imm(44)}}, {I::kIdRet, {}}},
       "t.s:1:2 (+0x0 sub rsp, 0x2C): an allocation of 0x2c bytes"},
      {{{I::kIdPush, {x86::rbp}}, {I::kIdLea, {x86::rbp, x86::ptr(rsp, 8)}}, {I::kIdPop, {x86::rbp}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x1 lea rbp, [rsp+0x08]): a frame pointer at RSP+0x8 (it must be RSP plus 0 to 240 in steps of 16)"},
      {{{I::kIdSub, {rsp, imm(0x108)}}, {I::kIdLea, {x86::rbp, x86::ptr(rsp, 256)}}, {I::kIdAdd, {rsp, imm(0x108)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x7 lea rbp, [rsp+0x100]): a frame pointer at RSP+0x100 (it must be RSP plus 0 to 240 in steps of 16)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdMov, {x86::qword_ptr(rsp, 8), x86::rbx}}, {I::kIdSub, {rsp, imm(16)}},
        {I::kIdAdd, {rsp, imm(56)}}, {I::kIdRet, {}}},
       "t.s:3:2 (+0x9 sub rsp, 0x10): an allocation after a register save moves the frame base the save is relative to"},
      {{{I::kIdPush, {x86::rbp}}, {I::kIdMov, {x86::rbp, rsp}}, {I::kIdSub, {rsp, imm(40)}},
        {I::kIdMovaps, {x86::xmmword_ptr(rsp, 16), x86::xmm6}}, {I::kIdAdd, {rsp, imm(40)}}, {I::kIdPop, {x86::rbp}}, {I::kIdRet, {}}},
       "t.s:4:2 (+0x8 movaps [rsp+0x10], xmm6): a save at -24 from the frame base (not a non-negative multiple of 16)"},
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdMov, {x86::qword_ptr(rsp, 12), x86::rsi}}, {I::kIdAdd, {rsp, imm(40)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x4 mov [rsp+0x0C], rsi): a save at 12 from the frame base (not a non-negative multiple of 8)"},
      // Pushes come before the allocation: one after it ends the prolog, and then moves RSP in the body.
      {{{I::kIdSub, {rsp, imm(40)}}, {I::kIdPush, {x86::rbx}}, {I::kIdPop, {x86::rbx}}, {I::kIdAdd, {rsp, imm(40)}}, {I::kIdRet, {}}},
       "t.s:2:2 (+0x4 push rbx): RSP changes after the prolog here, and not as the canonical epilog (add rsp, 0x28; ret)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.second);
    auto info = derive_unwind(image_of(c.first));
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().message == "t: " + c.second + "; Win64 unwind data cannot describe it");
  }
  CHECK(std::size(cases) >= 10);
}

TEST_CASE("a leaf without a frame has an empty UNWIND_INFO, and RUNTIME_FUNCTION is three RVAs") {
  auto info = derive_unwind(image_of({{x86::Inst::kIdMov, {x86::eax, asmjit::Imm(1)}}, {x86::Inst::kIdRet, {}}}));
  REQUIRE(info.ok());
  CHECK(info->encode() == std::vector<uint8_t>{1, 0, 0, 0});
  CHECK(RuntimeFunction{0x1000, 0x1010, 0x2000}.encode() ==
        std::vector<uint8_t>{0, 0x10, 0, 0, 0x10, 0x10, 0, 0, 0, 0x20, 0, 0});
}

// Only the nonvolatile XMM6-XMM15 are saved in a prolog: a store of XMM0 after the allocation is the body's.
TEST_CASE("a store of a volatile XMM register after the allocation is body, not a save") {
  namespace I = x86::Inst;
  const asmjit::Operand rsp = x86::rsp;
  auto info = derive_unwind(image_of({{I::kIdSub, {rsp, asmjit::Imm(40)}}, {I::kIdMovaps, {x86::xmmword_ptr(x86::rsp, 16), x86::xmm0}},
                                      {I::kIdAdd, {rsp, asmjit::Imm(40)}}, {I::kIdRet, {}}}));
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  REQUIRE(info->codes.size() == 1);
  CHECK(info->codes[0].op == UnwindOp::AllocSmall);
  CHECK(info->prolog_size == 4);
}
