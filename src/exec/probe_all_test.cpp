// probe_all and run_native_all: many stubs to a child, each report what a probe of the stub alone gives.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "../testing/hostile.hpp"
#include "../testing/probe_stubs.hpp"
#include "../testing/test_support.hpp"

using namespace w64stub;
using namespace w64stub::test;

namespace {

Image conformant_stub() { return Stub().get_std_handle(40).leave(40).image(); }

Image spinning_stub() {
  Stub s;
  s.label("spin").add("jmp spin", x86::Inst::kIdJmp, {CodeLabel{"spin"}});
  return s.add("ret", x86::Inst::kIdRet).image();
}

Image faulting_stub() {
  Stub s;
  s.add("xor eax, eax", x86::Inst::kIdXor, {x86::eax, x86::eax});
  s.add("mov [rax], eax", x86::Inst::kIdMov, {x86::dword_ptr(x86::rax), x86::eax});
  return s.add("ret", x86::Inst::kIdRet).image();
}

Image rbx_clobbering_stub() {
  Stub s;
  s.add("xor ebx, ebx", x86::Inst::kIdXor, {x86::ebx, x86::ebx});
  return s.add("ret", x86::Inst::kIdRet).image();
}

// Returns what GetCurrentProcessId answers; the stand-in below answers with the child's pid. With a count,
// it first counts RCX down from it: a while in one child.
Image pid_stub(int64_t count = 0) {
  Stub s;
  s.program().imports = {Import{"GetCurrentProcessId", "kernel32.dll", "GetCurrentProcessId", "", {}}};
  s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
  if (count > 0) {
    s.add(fmt::format("mov rcx, {}", count), x86::Inst::kIdMov, {x86::rcx, asmjit::Imm(count)});
    s.label("again").add("sub rcx, 1", x86::Inst::kIdSub, {x86::rcx, asmjit::Imm(1)});
    s.add("jnz again", x86::Inst::kIdJnz, {CodeLabel{"again"}});
  }
  s.add("mov rax, [GetCurrentProcessId]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetCurrentProcessId", 0, 8}});
  s.add("call rax", x86::Inst::kIdCall, {x86::rax});
  return s.leave(40).image();
}

std::vector<StandIn> pid_standins() {
  auto signature = win64::parse_signature("->u32");
  REQUIRE(signature.ok());
  return {StandIn{"kernel32.dll", "GetCurrentProcessId", *signature,
                  [](StandInContext&, std::span<const uint64_t>) -> uint64_t { return static_cast<uint64_t>(getpid()); },
                  {}}};
}

std::string verdict(const Expected<ProbeReport>& r) {
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  return r->conformant() ? "conformant" : rules(*r);
}

}  // namespace

TEST_CASE("probe_all: a stub that does not return ends its child, the ones after it run in the next") {
  const std::vector<Image> images = {conformant_stub(), spinning_stub(),       conformant_stub(), faulting_stub(),
                                     conformant_stub(), rbx_clobbering_stub(), conformant_stub()};
  const RunOptions options{.at_image_addresses = false, .timeout = std::chrono::milliseconds(200)};
  const auto reports = probe_all(images, options);
  REQUIRE(reports.size() == images.size());
  const char* const expected[] = {"conformant", "timeout",     "conformant", "fault",
                                  "conformant", "nonvolatile", "conformant"};
  for (size_t i = 0; i < images.size(); ++i) {
    CAPTURE(i);
    CHECK(verdict(reports[i]) == expected[i]);
    const auto alone = probe(images[i], options);
    CHECK(verdict(alone) == verdict(reports[i]));
    CHECK(reports[i]->run.ending == alone->run.ending);
    CHECK(reports[i]->run.fault.offset == alone->run.fault.offset);
    CHECK(reports[i]->calls.size() == alone->calls.size());
  }
}

TEST_CASE("probe_all: the stubs that return share a child, up to 64 of them") {
  const auto standins = pid_standins();
  const std::vector<Image> images(150, pid_stub());
  const auto reports = probe_all(images, {.at_image_addresses = false, .standins = standins});
  std::vector<uint64_t> pids;
  for (const auto& r : reports) {
    REQUIRE(verdict(r) == "conformant");
    pids.push_back(r->run.value);
  }
  CHECK(std::set<uint64_t>(pids.begin(), pids.end()).size() == 3);  // 64, 64 and 22
  CHECK(pids[0] == pids[63]);
  CHECK(pids[63] != pids[64]);
  CHECK(pids[64] == pids[127]);
  CHECK(pids[127] != pids[128]);
}

TEST_CASE("probe_all: a stub that ends its child after others ran there is judged again, first in a child of its own") {
  // It asks for the pid, then faults: the pid it got says which child its report comes from.
  Stub faulting;
  faulting.program().imports = {Import{"GetCurrentProcessId", "kernel32.dll", "GetCurrentProcessId", "", {}}};
  faulting.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
  faulting.add("mov rax, [GetCurrentProcessId]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetCurrentProcessId", 0, 8}});
  faulting.add("call rax", x86::Inst::kIdCall, {x86::rax});
  faulting.add("xor ecx, ecx", x86::Inst::kIdXor, {x86::ecx, x86::ecx});
  faulting.add("mov [rcx], eax", x86::Inst::kIdMov, {x86::dword_ptr(x86::rcx), x86::eax});
  const auto standins = pid_standins();
  const std::vector<Image> images = {pid_stub(), pid_stub(), faulting.leave(40).image(), pid_stub()};
  const auto reports = probe_all(images, {.at_image_addresses = false, .standins = standins});
  REQUIRE(verdict(reports[2]) == "fault");
  const uint64_t first_child = reports[0]->run.value, its_child = reports[2]->run.calls.at(0).result;
  CHECK(reports[1]->run.value == first_child);
  CHECK(its_child != first_child);
  CHECK(reports[3]->run.value != its_child);  // and the one after it in another again
}

TEST_CASE("probe_all: a stub finds zeros below its stack, not the poisons of the callees of the stub before it") {
  // The first stub's callee wrecks its home area, [RSP, RSP+32) of that stub's frame; the second stub, entered
  // at the same RSP, passes [RSP] of the same frame unwritten. Alone it finds whatever the harness left there.
  Stub reader;
  reader.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
  reader.add("mov rcx, [rsp]", x86::Inst::kIdMov, {x86::rcx, x86::qword_ptr(x86::rsp)});
  reader.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
  reader.add("call rax", x86::Inst::kIdCall, {x86::rax});
  const std::vector<Image> images = {conformant_stub(), reader.leave(40).image()};
  const auto reports = probe_all(images, {.at_image_addresses = false});
  CHECK(verdict(reports[0]) == "conformant");
  CHECK(verdict(reports[1]) == "conformant");  // not "volatile-reliance": no callee's poison in [RSP]
}

TEST_CASE("probe_all: a read past a stub's memory ends where it ends for the stub alone, not in its neighbours") {
  // WriteFile of 64 KiB from a 6-byte buffer: alone, it runs off the stub's pages and fails; twenty of them
  // in one child lie side by side, and without a guard page between them the later ones read on through the
  // earlier ones' pages and succeed.
  const test::HostileCase c = test::load_hostile("write-count-past-pages");
  const std::vector<Image> images(20, test::adopt_hostile(c));
  const RunOptions options{.at_image_addresses = false};
  auto alone = probe(images[0], options);
  REQUIRE_MESSAGE(alone.ok(), alone.error().message);
  REQUIRE(alone->run.calls.size() == 2);
  REQUIRE(alone->run.calls[1].result == 0);
  REQUIRE(alone->run.calls[1].last_error == 1784);  // ERROR_INVALID_USER_BUFFER
  const auto reports = probe_all(images, options);
  for (size_t i = 0; i < reports.size(); ++i) {
    CAPTURE(i);
    REQUIRE(verdict(reports[i]) == "conformant");
    CHECK(reports[i]->run.calls.at(1).result == 0);
    CHECK(reports[i]->run.calls.at(1).last_error == 1784);
  }
}

TEST_CASE("probe_all: stubs at their own addresses, a page apart, each read past as alone, in either order") {
  // The first writes 16 bytes from the last 8 of its text page: alone, the page after it is not there and
  // WriteFile fails; the second, a RET, has its text in exactly that page.
  constexpr uint64_t kFirst = 0x1000'0000, kSecond = kFirst + 0x1000;
  Stub writer;
  writer.get_std_handle(56);
  writer.add("mov rcx, rax", x86::Inst::kIdMov, {x86::rcx, x86::rax});
  writer.add("mov rdx, 0x10000ff8", x86::Inst::kIdMov, {x86::rdx, asmjit::Imm(kFirst + 0xff8)});
  writer.add("mov r8d, 16", x86::Inst::kIdMov, {x86::r8d, asmjit::Imm(16)});
  writer.add("xor r9d, r9d", x86::Inst::kIdXor, {x86::r9d, x86::r9d});
  writer.add("mov qword [rsp+32], 0", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 32), asmjit::Imm(0)});
  writer.add("mov rax, [WriteFile]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"WriteFile", 0, 8}});
  writer.add("call rax", x86::Inst::kIdCall, {x86::rax});
  writer.leave(56);
  auto first = emit(writer.program(), {Model::Rip, Policy::As, {{"code", kFirst}}, "writer"});
  REQUIRE_MESSAGE(first.ok(), first.error().message);
  REQUIRE(first->text.address + first->text.bytes.size() + first->data.bytes.size() <= kSecond);
  Stub ret;
  ret.program().imports.clear();
  ret.add("ret", x86::Inst::kIdRet);
  auto second = emit(ret.program(), {Model::Rip, Policy::As, {{"code", kSecond}}, "ret"});
  REQUIRE_MESSAGE(second.ok(), second.error().message);

  auto alone = probe(*first);
  REQUIRE_MESSAGE(alone.ok(), alone.error().message);
  REQUIRE(alone->run.at_image_addresses);
  REQUIRE(alone->run.calls.at(1).last_error == 1784);  // ERROR_INVALID_USER_BUFFER
  for (const auto& images : {std::vector<Image>{*first, *second}, std::vector<Image>{*second, *first}}) {
    const auto reports = probe_all(images);
    for (const auto& report : reports) {
      REQUIRE(verdict(report) == "conformant");
      CHECK(report->run.at_image_addresses);
    }
    const ProbeReport& writes = images[0].stub == "writer" ? *reports[0] : *reports[1];
    CHECK(writes.run.calls.at(1).last_error == 1784);
  }
}

TEST_CASE("probe_all: each stub has the whole timeout, however long the ones before it in its child took") {
  // A stub that counts for a while, timed alone; eight of them in one child take about eight times that,
  // and a timeout of three times it is still each one's own: none is stopped and judged again in a child
  // of its own (which would still find it conformant), so all eight answer with one child's pid.
  const auto standins = pid_standins();
  const Image slow = pid_stub(int64_t{100'000'000});
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(verdict(probe(slow, {.timeout = std::chrono::seconds(30), .standins = standins})) == "conformant");
  const auto once = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const std::vector<Image> images(8, slow);
  const auto reports = probe_all(images, {.at_image_addresses = false,
                                          .timeout = std::max(3 * once, std::chrono::milliseconds(100)),
                                          .standins = standins});
  for (size_t i = 0; i < images.size(); ++i) {
    CAPTURE(i);
    CHECK(verdict(reports[i]) == "conformant");
    CHECK(reports[i]->run.value == reports[0]->run.value);
  }
}

TEST_CASE("probe_all: Images at the same addresses each run at their own, in a child of their own") {
  const Image image = test::emit_catalog("badcallback", Variant::Abi, Model::Go2012);
  const std::vector<Image> images(3, image);
  const auto runs = run_native_all(images);
  for (const auto& run : runs) {
    REQUIRE_MESSAGE(run.ok(), run.error().message);
    CHECK(run->at_image_addresses);
    CHECK(run->text_address == image.text.address);
    CHECK(run->captured_stderr == "runtime: cgo callback on thread not created by Go.\n");
  }
}

TEST_CASE("probe_all: an Image that cannot run is an error in its place, the others are probed") {
  Stub s;
  s.program().imports.clear();
  s.program().externals = {"elsewhere"};
  s.add("lea rax, [elsewhere]", x86::Inst::kIdLea, {x86::rax, SymbolMem{"elsewhere", 0, 0}});
  s.add("ret", x86::Inst::kIdRet);
  auto taken = emit(s.program(), {Model::Rip, Policy::As, {}, "broken"});
  REQUIRE_MESSAGE(taken.ok(), taken.error().message);
  const std::vector<Image> images = {conformant_stub(), *taken, conformant_stub()};
  const auto reports = probe_all(images);
  CHECK(verdict(reports[0]) == "conformant");
  REQUIRE_FALSE(reports[1].ok());
  CHECK(reports[1].error().message.find("is external and not called") != std::string::npos);
  CHECK(verdict(reports[2]) == "conformant");
}
