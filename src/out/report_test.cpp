#include "w64stub/out/report.hpp"

#include <doctest/doctest.h>

#include "../testing/test_support.hpp"
#include "w64stub/core/frame_plan.hpp"

using namespace w64stub;

namespace {
std::string frame_text(const Image& image) { return format_frame(image, analyze_frame(image)); }
}  // namespace

TEST_CASE("frame report: declared vs explicit, depth, each call's alignment") {
  const Image fixed = test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012);
  std::string post = frame_text(fixed);
  CHECK(post.find("declared frame         0") != std::string::npos);
  CHECK(post.find("explicit adjustment   48") != std::string::npos);
  CHECK(post.find("max depth             56") != std::string::npos);
  CHECK(post.find("+0x17   depth  48  RSP =  8 (mod 16)  MISALIGNED  (badcallback:6 CALL AX)") != std::string::npos);
  std::string abi = frame_text(test::emit_catalog("badcallback-prefix", Variant::Abi, Model::Go2012));
  CHECK(abi.find("declared frame        56") != std::string::npos);
  CHECK(abi.find("MISALIGNED") == std::string::npos);
  // Read back from its image file: the same facts, without the source it cannot know.
  auto read = from_file(to_file(fixed));
  REQUIRE(read.ok());
  std::string from_file_text = frame_text(*read);
  CHECK(from_file_text.find("+0x17   depth  48  RSP =  8 (mod 16)  MISALIGNED\n") != std::string::npos);
  CHECK(from_file_text.find("explicit adjustment   48") != std::string::npos);
}

TEST_CASE("run report as text and JSON") {
  Image image = test::emit_catalog("badsignal", Variant::Faithful, Model::Go2012);
  auto r = probe(image);
  REQUIRE(r.ok());
  std::string text = format_run(image, *r);
  CHECK(text.find("->  FALSE (GetLastError 1784)") != std::string::npos);
  CHECK(text.find("RSP after return: intact") != std::string::npos);
  CHECK(text.find("failure: WriteFile returned FALSE") != std::string::npos);
  CHECK(text.find("violation: RSP = 8 (mod 16) at the CALL to WriteFile; Win64 wants 0") != std::string::npos);
  CHECK(text.find("*lpNumberOfBytesWritten = 0") != std::string::npos);
  std::string json = format_json(image, *r);
  CHECK(json.find("\"last_error\": 1784") != std::string::npos);
  CHECK(json.find("\"rsp_balanced\": true") != std::string::npos);
  CHECK(json.find("\"rule\": \"call-alignment\"") != std::string::npos);

  Image fixed = test::emit_catalog("badsignal", Variant::Abi, Model::Go2012);
  auto ok = probe(fixed);
  std::string t = format_run(fixed, *ok);
  CHECK(t.find("stderr: \"runtime: signal received on thread not created by Go.\\n\"") != std::string::npos);
  CHECK(t.find("findings: none") != std::string::npos);
  CHECK(t.find("nNumberOfBytesToWrite=54 lpNumberOfBytesWritten=0x") != std::string::npos);
  CHECK(t.find("->  TRUE (GetLastError 0), wrote 54 bytes to fd 2, *lpNumberOfBytesWritten = 54") != std::string::npos);
}

TEST_CASE("probe report: a row per call, the stub-wide rules, each violation with its instruction") {
  Image image = test::emit_catalog("badcallback", Variant::Fixed, Model::Go2012);
  auto r = probe(image);
  REQUIRE(r.ok());
  std::string text = format_probe(image, *r);
  CHECK(text.find("+0x17    GetStdHandle  8 BAD     ok         -          nStdHandle=-12 -> 0x58") != std::string::npos);
  CHECK(text.find("nonvolatiles kept      yes") != std::string::npos);
  CHECK(text.find("2 violation(s):") != std::string::npos);
  CHECK(text.find("at +0x5b: call rax   (badcallback:18 CALL AX)") != std::string::npos);
  std::string abi = format_probe(image, *probe(test::emit_catalog("badcallback", Variant::Abi, Model::Go2012)));
  CHECK(abi.ends_with("  conformant\n"));
}

TEST_CASE("the frame diagram: slots from the entry down, offsets from RSP and RBP, what the prolog and epilog do") {
  const Image abi = test::emit_catalog("badsignal", Variant::Abi, Model::Go2012);
  const std::string d = format_frame_diagram(abi, analyze_frame(abi), *derive_unwind(abi));
  CHECK(d.find("    RSP+0x38                   8  return address               <- RSP at entry\n") != std::string::npos);
  CHECK(d.find("    RSP+0x20                   8  stack argument 5 of the calls\n") != std::string::npos);
  CHECK(d.find("    RSP+0x0                   32  home area for the callees   <- RSP after the prolog\n") != std::string::npos);
  CHECK(d.find("sub rsp, 0x38                        ALLOC_SMALL      RSP -= 0x38") != std::string::npos);
  CHECK(d.find("ret                                  epilog           returns: pops the return address") != std::string::npos);

  auto plan = plan_frame({.saved = {asmjit::x86::rbx}, .saved_xmm = {asmjit::x86::xmm6}, .frame_pointer = true,
                          .locals = 8, .call_args = 5});
  REQUIRE(plan.ok());
  Program p;
  p.symbol = "planned";
  plan->prolog(p);
  p.instrs.push_back(Instr{asmjit::x86::Inst::kIdMov, {asmjit::x86::qword_ptr(asmjit::x86::rsp, 32), asmjit::Imm(0)}});
  p.instrs.push_back(Instr{asmjit::x86::Inst::kIdCall, {asmjit::x86::rax}});
  plan->epilog(p);
  auto image = emit(p, {.model = Model::Rip});
  REQUIRE(image.ok());
  const std::string e = format_frame_diagram(*image, analyze_frame(*image), *derive_unwind(*image));
  CHECK(e.find(fmt::format("RSP+{:#x}", plan->xmm_offset)) != std::string::npos);
  CHECK(e.find("saved xmm6") != std::string::npos);
  CHECK(e.find("saved rbp") != std::string::npos);
  CHECK(e.find(fmt::format("rbp{:+#x}", plan->depth() - plan->fp_offset)) != std::string::npos);  // the return address
  CHECK(e.find("SET_FPREG        rbp = RSP+") != std::string::npos);
}
