#include "w64stub/exec/harness.hpp"

#include <doctest/doctest.h>

#include "../testing/test_support.hpp"

using namespace w64stub;

namespace {
const char* const kCallbackMessage = "runtime: cgo callback on thread not created by Go.\n";
const char* const kSignalMessage = "runtime: signal received on thread not created by Go.\n";

RunReport run(std::string_view stub, Variant v, Model m, RunOptions options = {}) {
  auto report = run_native(test::emit_catalog(stub, v, m), options);
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  return *report;
}
}  // namespace

TEST_CASE("fixed and abi write the exact messages through WriteFile") {
  for (Model m : kModels)
    for (Variant v : {Variant::Fixed, Variant::Abi})
      for (bool relocate : {false, true}) {
        CAPTURE(name(m));
        CAPTURE(name(v));
        RunReport cb = run("badcallback", v, m, {.at_image_addresses = !relocate});
        REQUIRE(cb.calls.size() == 2);
        CHECK(cb.calls[0].function == "GetStdHandle");
        CHECK(static_cast<int32_t>(cb.calls[0].args[0]) == -12);
        CHECK(cb.calls[1].function == "WriteFile");
        CHECK(cb.calls[1].args[0] == cb.calls[0].result);  // the handle GetStdHandle returned
        CHECK(cb.calls[1].args[2] == 51);
        CHECK(cb.calls[1].result == 1);
        CHECK(cb.captured_stderr == kCallbackMessage);
        CHECK(cb.captured_stdout.empty());
        CHECK(cb.rsp_intact());

        RunReport sig = run("badsignal", v, m, {.at_image_addresses = !relocate});
        CHECK(sig.calls[1].args[2] == 54);
        CHECK(sig.captured_stderr == kSignalMessage);
      }
}

TEST_CASE("faithful passes the length's address as the count - WriteFile fails with 1784 and writes nothing") {
  for (std::string stub : {"badcallback", "badcallback-prefix", "badsignal"})
    for (Model m : {Model::Go2012, Model::Rip})
      for (bool relocate : {false, true}) {
        CAPTURE(stub);
        CAPTURE(name(m));
        CAPTURE(relocate);
        Image image = test::emit_catalog(stub, Variant::Faithful, m);
        auto report = run_native(image, {.at_image_addresses = !relocate});
        REQUIRE(report.ok());
        REQUIRE(report->calls.size() == 2);
        const CallRecord& wf = report->calls[1];
        std::string len = stub == "badsignal" ? "runtime·badsignallen" : "runtime·badcallbacklen";
        const uint64_t len_address = report->address_of(len);
        if (report->at_image_addresses) CHECK(len_address == image.find_symbol(len)->address);
        // MOVL $len(SB), R8: the DWORD count is the low half of the length's address.
        CHECK(wf.args[2] == static_cast<uint32_t>(len_address));
        CHECK(wf.args[2] != 51);
        CHECK(wf.args[2] != 54);
        REQUIRE(wf.out_values.size() == 1);
        // A rip image not at its own addresses lies wherever mmap put it (under ASan always: its reserved
        // shadow gap holds 0x140001000), and the count, that address's low half, may then by chance reach only
        // readable memory: WriteFile writes that many bytes. At the image's addresses, and below 2 GiB, the
        // count reaches unmapped memory, and it must fail.
        CHECK(report->rsp_intact());
        if (!report->at_image_addresses && m == Model::Rip && wf.result != 0) {
          CHECK(wf.out_values[0] == std::pair<int, int64_t>{3, static_cast<int64_t>(wf.args[2])});
          continue;
        }
        CHECK(wf.result == 0);
        CHECK(wf.last_error == kErrorInvalidUserBuffer);
        CHECK(wf.output.empty());
        CHECK(wf.out_values[0] == std::pair<int, int64_t>{3, 0});  // *lpNumberOfBytesWritten
        CHECK(report->captured_stderr.empty());
      }
}

TEST_CASE("RSP at the CALLs: 8 for faithful and fixed, 0 for abi - the entry condition decides") {
  for (Variant v : kVariants) {
    RunReport r = run("badcallback", v, Model::Go2012);
    int want = v == Variant::Abi ? 0 : 8;
    CHECK(r.calls[0].call_residue == want);
    CHECK(r.calls[1].call_residue == want);
    CHECK(r.calls[0].call_offset == 0x17);  // where Zydis puts the first CALL in GNU as's bytes too
    RunReport shifted = run("badcallback", v, Model::Go2012, {.entry_residue = 0});
    CHECK(shifted.calls[0].call_residue == 8 - want);
  }
}

TEST_CASE("the stand-ins behave like Windows on bad handles") {
  // A Program that asks for handle -13 and writes through it.
  Program p = *catalog_program("badcallback", Variant::Abi);
  p.instrs[1].operands[1] = asmjit::Operand(asmjit::Imm(-13));
  auto image = emit(p, {});
  REQUIRE(image.ok());
  auto r = run_native(*image);
  REQUIRE(r.ok());
  CHECK(r->calls[0].result == ~uint64_t{0});
  CHECK(r->calls[0].last_error == kErrorInvalidHandle);
  CHECK(r->calls[1].result == 0);
  CHECK(r->calls[1].last_error == kErrorInvalidHandle);
}
