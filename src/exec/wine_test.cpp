// Under Wine: the stubs against the real Windows API, through tools/winrun. All images of a test case run in
// one wine64 process.
#include "w64stub/exec/wine.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "../testing/hostile.hpp"
#include "../testing/probe_stubs.hpp"
#include "../testing/test_support.hpp"
#include "../testing/thunk_example.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/win/unwind.hpp"

#include <filesystem>
#include <fstream>

using namespace w64stub;

namespace {

WineSetup setup() {
  auto s = find_wine();  // winrun.exe beside the test (build/share/w64stub), the prefix from W64STUB_WINEPREFIX
  REQUIRE_MESSAGE(s.ok(), s.error().message);
  return *s;
}

struct Case {
  const char* stub;
  Variant variant;
  Model model;
};

std::vector<Case> every_case() {
  std::vector<Case> cases;
  for (const char* stub : {"badcallback", "badsignal"})
    for (Variant v : kVariants)
      for (Model m : kModels)
        if (!(v == Variant::Faithful && m == Model::Abs64)) cases.push_back({stub, v, m});  // refused by emit
  return cases;
}

}  // namespace

TEST_CASE("the stubs against Windows' own kernel32 (acceptance 1-3), all in one wine64 process") {
  const std::vector<Case> cases = every_case();
  std::vector<Image> images;
  for (const Case& c : cases) images.push_back(test::emit_catalog(c.stub, c.variant, c.model));
  auto runs = run_wine(images, setup());
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE(runs->size() == cases.size());

  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    CAPTURE(c.stub);
    CAPTURE(name(c.variant));
    CAPTURE(name(c.model));
    const Expected<RunReport>& run = (*runs)[i];
    REQUIRE_MESSAGE(run.ok(), run.error().message);
    CHECK(run->host == Host::Wine);
    CHECK(run->returned());
    REQUIRE(run->calls.size() == 2);
    const CallRecord& get = run->calls[0];
    const CallRecord& write = run->calls[1];
    CHECK(get.function == "GetStdHandle");
    CHECK(static_cast<int32_t>(get.args[0]) == -12);
    CHECK(write.function == "WriteFile");
    CHECK(write.args[0] == get.result);  // the real handle Windows returned
    const std::string_view message = catalog_message(c.stub);

    if (c.variant == Variant::Faithful) {
      // Acceptance 2: the length's address as the count; FALSE, 1784, nothing on the real stderr.
      const std::string len = fmt::format("runtime·{}len", c.stub);
      CHECK(static_cast<uint32_t>(write.args[2]) == static_cast<uint32_t>(run->address_of(len)));
      CHECK(write.result == 0);
      CHECK(write.last_error == kErrorInvalidUserBuffer);
      CHECK(run->captured_stderr.empty());
    } else {
      // Acceptance 1: the exact message on wine64's stderr, TRUE, *written = the length.
      CHECK(write.args[2] == message.size());
      CHECK(write.result == 1);
      REQUIRE(write.out_values.size() == 1);
      CHECK(write.out_values[0] == std::pair<int, int64_t>{3, static_cast<int64_t>(message.size())});
      CHECK(run->captured_stderr == message);
    }
    CHECK(run->captured_stdout.empty());

    // Acceptance 3: RSP at both CALLs as the native probe sees it on the same image.
    const int want = c.variant == Variant::Abi ? 0 : 8;
    CHECK(get.call_residue == want);
    CHECK(write.call_residue == want);
    auto native = probe(images[i]);
    REQUIRE(native.ok());
    REQUIRE(native->run.calls.size() == 2);
    CHECK(native->run.calls[0].call_residue == get.call_residue);
    CHECK(native->run.calls[1].call_residue == write.call_residue);
    CHECK(native->run.calls[1].call_offset == write.call_offset);
    ProbeReport wine_verdict = check_contract(images[i], *run);
    CHECK(wine_verdict.violations.size() == native->violations.size());
  }
}

TEST_CASE("an image winrun cannot load is that image's error - the others still run") {
  Image good = test::emit_catalog("badsignal", Variant::Abi, Model::Rip);
  Image bad = good;
  bad.symbols.back().address = good.text.address;
  for (Symbol& s : bad.symbols)
    if (s.kind == SymbolKind::Import) s.function = "NoSuchFunction";
  auto runs = run_wine(std::vector<Image>{bad, good}, setup());
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE((*runs).size() == 2);
  REQUIRE_FALSE((*runs)[0].ok());
  CHECK((*runs)[0].error().message.find("winrun: cannot resolve kernel32.dll!NoSuchFunction") != std::string::npos);
  REQUIRE((*runs)[1].ok());
  CHECK((*runs)[1]->captured_stderr == catalog_message("badsignal"));
}

TEST_CASE("a wine64 that fails to start, writing nothing, is started once more - and only once") {
  const WineSetup real = setup();
  const std::string dir = fmt::format("/tmp/w64stub-wine-start-{}", getpid());
  std::filesystem::create_directories(dir);
  // A wine64 that counts its starts, fails the first `fails` of them without a word, then is the real one.
  auto flaky = [&](int fails) {
    const std::string script = fmt::format("{}/wine64-{}", dir, fails);
    std::ofstream(script) << fmt::format("#!/bin/sh\necho start >> {0}/starts-{1}\n"
                                         "[ $(wc -l < {0}/starts-{1}) -le {1} ] && exit 1\nexec {2} \"$@\"\n",
                                         dir, fails, real.wine64);
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return WineSetup{script, real.winrun, real.prefix};
  };
  auto starts = [&](int fails) { return test::slurp(fmt::format("{}/starts-{}", dir, fails)).size() / 6; };
  const Image image = test::emit_catalog("badsignal", Variant::Abi, Model::Rip);

  auto once = run_wine({&image, 1}, flaky(1));
  REQUIRE_MESSAGE(once.ok(), once.error().message);
  REQUIRE_MESSAGE((*once)[0].ok(), (*once)[0].error().message);
  CHECK((*once)[0]->captured_stderr == catalog_message("badsignal"));
  CHECK(starts(1) == 2);

  auto twice = run_wine({&image, 1}, flaky(2));  // still nothing the second time: the image's error
  REQUIRE(twice.ok());
  REQUIRE_FALSE((*twice)[0].ok());
  CHECK((*twice)[0].error().message.find("winrun gave no report (exited, exit status 1)") != std::string::npos);
  CHECK(starts(2) == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("w64stub run --host wine: the native report's shape, Windows' answers") {
  const std::string out = fmt::format("/tmp/w64stub-wine-cli-{}.out", getpid());
  auto run = [&](const std::string& args) {
    int status = std::system(fmt::format("{} run {} > {} 2>&1", W64STUB_CLI, args, out).c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  CHECK(run("badsignal --variant abi --model rip --host wine") == 0);
  std::string text = test::slurp(out);
  CHECK(text.find("model rip, wine:") != std::string::npos);
  CHECK(text.find("->  TRUE (GetLastError 0), *lpNumberOfBytesWritten = 54") != std::string::npos);
  CHECK(text.find("findings: none") != std::string::npos);
  CHECK(run("badsignal --host wine --format json") == 1);
  text = test::slurp(out);
  CHECK(text.find("\"host\": \"wine\"") != std::string::npos);
  CHECK(text.find("\"last_error\": 1784") != std::string::npos);
  // probe --host wine also asks Windows' unwinder at every instruction boundary of the stub.
  CHECK(std::system(fmt::format("{} probe badsignal --variant abi --host wine > {} 2>&1", W64STUB_CLI, out).c_str()) == 0);
  CHECK(test::slurp(out).find("unwinds everywhere     yes  (Windows' unwinder at 19 instruction boundaries)") != std::string::npos);
  std::remove(out.c_str());
}

TEST_CASE("missing pieces say which package to install") {
  CHECK(find_wine("", "/tmp/p").error().message.find("apt-get install g++-mingw-w64-x86-64") != std::string::npos);
  CHECK(find_wine("/nonexistent/winrun.exe", "/tmp/p").error().message.find("/nonexistent/winrun.exe is missing") !=
        std::string::npos);
}

namespace {

// A refgen prologue (testdata/ref/unwind/NAME.text.hex, GNU as's bytes) as an Image with its derived unwind data.
Image unwind_prologue(const std::string& name) {
  auto bytes = read_hex_file(fmt::format("{}/unwind/{}.text.hex", W64STUB_REF_DIR, name));
  REQUIRE(bytes.ok());
  imagefile::File f;
  f.stub = name;
  f.symbol = "f";
  f.model = "rip";
  f.code_size = static_cast<uint32_t>(bytes->size());
  f.sections.push_back({"text", 0x140001000, *bytes});
  auto image = from_file(f);
  REQUIRE(image.ok());
  auto unwind = derive_unwind(*image);
  REQUIRE_MESSAGE(unwind.ok(), unwind.error().message);
  image->unwind = unwind->encode();
  return std::move(*image);
}

}  // namespace

TEST_CASE("unwind acceptance 2: Windows' unwinder gives back the caller at every instruction boundary") {
  std::vector<Image> images;
  std::vector<std::string> names;
  for (const Case& c : every_case()) {  // every catalog stub, variant and model
    images.push_back(test::emit_catalog(c.stub, c.variant, c.model));
    names.push_back(fmt::format("{} {} {}", c.stub, name(c.variant), name(c.model)));
  }
  images.push_back(test::emit_catalog("badcallback-prefix", Variant::Abi, Model::Go2012));
  names.push_back("badcallback-prefix abi go2012");
  // The refgen prologues, but the 4 GiB allocation: its RSP would point at no stack at all.
  for (const auto& entry : std::filesystem::directory_iterator(std::string(W64STUB_REF_DIR) + "/unwind")) {
    const std::string file = entry.path().filename().string();
    if (!file.ends_with(".text.hex") || file.starts_with("alloc0xfffffff8")) continue;
    names.push_back(file.substr(0, file.size() - 9));
    images.push_back(unwind_prologue(names.back()));
  }
  auto runs = run_wine(images, setup(), {.unwind_check = true});
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE(runs->size() == images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    CAPTURE(names[i]);
    const auto& run = (*runs)[i];
    REQUIRE_MESSAGE(run.ok(), run.error().message);
    CHECK(run->unwind_checked == static_cast<int>(images[i].instrs.size()));  // every boundary, once
    for (const auto& failure : run->unwind_failures)  // no structured binding: clang 14 cannot capture it
      CHECK_MESSAGE(false, fmt::format("+{:#x}: {}", failure.first, failure.second));
  }
}

TEST_CASE("unwind acceptance 2: a wrong unwind table fails, with the offset") {
  Image image = unwind_prologue("push3");  // push rbx; push rbp; push rdi; sub rsp, 0x20; ...
  auto info = *UnwindInfo::decode(image.unwind);
  info.codes.erase(info.codes.begin() + 1);  // forget push rbp
  image.unwind = info.encode();
  auto runs = run_wine({&image, 1}, setup(), {.unwind_check = true});
  REQUIRE(runs.ok());
  REQUIRE(runs->front().ok());
  const RunReport& run = *runs->front();
  REQUIRE_FALSE(run.unwind_failures.empty());
  CHECK(run.unwind_failures.front().first == 2);  // the first boundary after push rbp
  ProbeReport verdict = check_contract(image, run);
  CHECK_FALSE(verdict.conformant());
  CHECK(verdict.violations.front().rule == "unwind");
  CHECK(verdict.violations.front().offset == 2);
}

TEST_CASE("unwind acceptance 3: an image without unwind data fails the unwind check, saying so") {
  Image image = unwind_prologue("push3");
  image.unwind.clear();
  auto runs = run_wine({&image, 1}, setup(), {.unwind_check = true});
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE(runs->front().ok());
  const RunReport& run = *runs->front();
  CHECK(run.returned());
  CHECK(run.unwind_checked <= 0);
  ProbeReport verdict = check_contract(image, run);
  REQUIRE(test::rules(verdict) == "unwind");
  CHECK(verdict.violations.front().message ==
        "no instruction boundary could be checked: the image has no unwind data (w64stub unwind says why)");
}

TEST_CASE("the worked example under Wine: the 6-in, 7-out thunk returns the right value and unwinds everywhere") {
  auto image = emit(test::make_thunk(), {.model = Model::Rip});
  REQUIRE(image.ok());
  auto runs = run_wine({&*image, 1}, setup(), {.unwind_check = true, .args = {1, 2, 3, 4, 5, 6}});
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE_MESSAGE(runs->front().ok(), runs->front().error().message);
  const RunReport& run = *runs->front();
  CHECK(run.value == static_cast<uint64_t>(test::sum7(1, 2, 3, 4, 5, 6, 7)));
  REQUIRE(run.calls.size() == 1);
  CHECK(run.calls[0].function == "w64stub_sum7");
  CHECK(run.calls[0].call_residue == 0);
  CHECK(run.unwind_checked == static_cast<int>(image->instrs.size()));  // every instruction boundary once
  CHECK(run.unwind_failures.empty());
  ProbeReport verdict = check_contract(*image, run);
  CHECK_MESSAGE(verdict.conformant(), verdict.violations.front().message);
}

TEST_CASE("under Wine a spinning stub is stopped where it spins, and a stub cannot write its own report") {
  // A stub that loops forever, then one that prints what winrun's reports look like.
  Program spin;
  spin.symbol = "spin";
  spin.instrs = {Instr::bind("top"), {asmjit::x86::Inst::kIdJmp, {CodeLabel{"top"}}}, {asmjit::x86::Inst::kIdRet, {}}};
  Program fake = *catalog_program("badsignal", Variant::Abi);
  const std::string lie = "0 {\"returned\": true, \"calls\": []}\n\x1e" "report {\"returned\": true}\n";
  fake.data[1].bytes.assign(lie.begin(), lie.end());
  fake.data[0].bytes = {static_cast<uint8_t>(lie.size()), 0, 0, 0};
  std::vector<Image> images = {*emit(spin, {.model = Model::Rip}), *emit(fake, {.model = Model::Rip})};
  auto runs = run_wine(images, setup(), {.stub_timeout = std::chrono::milliseconds(300)});
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE((*runs)[0].ok());
  CHECK((*runs)[0]->ending == Ending::TimedOut);
  CHECK((*runs)[0]->fault.offset == 0);
  ProbeReport verdict = check_contract(images[0], *(*runs)[0]);
  REQUIRE_FALSE(verdict.violations.empty());
  CHECK(verdict.violations[0].rule == "timeout");
  REQUIRE_MESSAGE((*runs)[1].ok(), (*runs)[1].error().message);
  CHECK((*runs)[1]->calls.size() == 2);  // winrun's own report, not the one the stub wrote
  CHECK((*runs)[1]->captured_stderr == lie);
}

TEST_CASE("the hostile catalog under Wine: one wine64 process survives every image marked for it, each with its verdict") {
  std::vector<test::HostileCase> cases;
  std::vector<Image> images;
  for (const std::string& name : test::hostile_names()) {
    test::HostileCase c = test::load_hostile(name);
    if (!c.wine) continue;
    images.push_back(test::adopt_hostile(c));
    cases.push_back(std::move(c));
  }
  REQUIRE(cases.size() >= 5);
  auto runs = run_wine(images, setup(), {.stub_timeout = std::chrono::milliseconds(300)});
  REQUIRE_MESSAGE(runs.ok(), runs.error().message);
  REQUIRE(runs->size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].name);
    REQUIRE_MESSAGE((*runs)[i].ok(), (*runs)[i].error().message);
    const ProbeReport r = check_contract(images[i], *(*runs)[i]);
    CHECK((r.conformant() ? "conformant" : test::rules(r)) == cases[i].wine_expect());
  }
}
