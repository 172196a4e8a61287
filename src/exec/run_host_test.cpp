#include "w64stub/exec/run_host.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "../testing/probe_stubs.hpp"
#include "../testing/test_support.hpp"
#include "w64stub/exec/probe.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

std::unique_ptr<RunHost> start_host(std::span<const StandIn> standins = builtin_standins()) {
  auto host = RunHost::start(standins);
  REQUIRE_MESSAGE(host.ok(), host.error().message);
  return std::move(*host);
}

// What a run observed that does not depend on where the child's memory happens to lie. (Not XMM0-XMM3 at a
// callee's entry either: these stubs leave there whatever the harness's own code did before the call.)
void check_same_run(const RunReport& here, const RunReport& there) {
  CHECK(name(there.ending) == name(here.ending));
  CHECK(there.fault.signal == here.fault.signal);
  CHECK(there.fault.offset == here.fault.offset);
  CHECK(there.at_image_addresses == here.at_image_addresses);
  if (here.at_image_addresses) {
    CHECK(there.text_address == here.text_address);
    CHECK(there.placed == here.placed);
  }
  CHECK(there.value == here.value);
  CHECK(there.rsp_after_return - there.stub_entry_rsp == here.rsp_after_return - here.stub_entry_rsp);
  CHECK(there.after.gp == here.after.gp);
  CHECK(there.after.xmm == here.after.xmm);
  CHECK(there.caller_frame == here.caller_frame);
  CHECK(there.captured_stdout == here.captured_stdout);
  CHECK(there.captured_stderr == here.captured_stderr);
  CHECK(there.wx_mappings == here.wx_mappings);
  REQUIRE(there.calls.size() == here.calls.size());
  for (size_t i = 0; i < here.calls.size(); ++i) {
    CAPTURE(i);
    CHECK(there.calls[i].function == here.calls[i].function);
    CHECK(there.calls[i].result == here.calls[i].result);
    CHECK(there.calls[i].last_error == here.calls[i].last_error);
    CHECK(there.calls[i].call_residue == here.calls[i].call_residue);
    CHECK(there.calls[i].call_offset == here.calls[i].call_offset);
    CHECK(there.calls[i].output == here.calls[i].output);
    CHECK(there.calls[i].args[0] == here.calls[i].args[0]);  // the handle: not an address
    CHECK(there.calls[i].entry_rsp - there.stub_entry_rsp == here.calls[i].entry_rsp - here.stub_entry_rsp);
  }
}

uint64_t fixed_handle(StandInContext&, std::span<const uint64_t>) { return 0x1234; }
uint64_t other_handle(StandInContext&, std::span<const uint64_t>) { return 0x5678; }

}  // namespace

TEST_CASE("a run host runs the catalog as this process does, at the image's addresses and relocated") {
  auto host = start_host();
  for (std::string stub : {"badcallback", "badsignal"})
    for (Model m : kModels)
      for (Variant v : kVariants) {
        if (m == Model::Abs64 && v == Variant::Faithful) continue;  // refused by emit
        const Image image = test::emit_catalog(stub, v, m);
        for (bool relocate : {false, true}) {
          CAPTURE(stub);
          CAPTURE(name(m));
          CAPTURE(name(v));
          CAPTURE(relocate);
          auto here = probe(image, {.at_image_addresses = !relocate});
          auto there = probe(image, {.at_image_addresses = !relocate, .host = host.get()});
          REQUIRE_MESSAGE(here.ok(), here.error().message);
          REQUIRE_MESSAGE(there.ok(), there.error().message);
          check_same_run(here->run, there->run);
          CHECK(test::rules(*there) == test::rules(*here));
          CHECK(there->run.calls.size() == 2);
        }
      }
}

TEST_CASE("a run host: the entry residue, the timeout and the stub's declared arguments reach it") {
  auto host = start_host();
  const Image abi = test::emit_catalog("badcallback", Variant::Abi, Model::Rip);
  ProbeReport shifted = test::probe_ok(abi, {.entry_residue = 0, .host = host.get()});
  CHECK(test::rules(shifted) == "call-alignment, call-alignment");

  test::Stub spin;
  spin.label("spin").add("jmp spin", x86::Inst::kIdJmp, {CodeLabel{"spin"}});
  const Image forever = spin.image();
  const auto t0 = std::chrono::steady_clock::now();
  ProbeReport stopped = test::probe_ok(forever, {.timeout = std::chrono::milliseconds(50), .host = host.get()});
  CHECK(name(stopped.run.ending) == name(Ending::TimedOut));
  // 50 ms asked: without it the run host would wait the default 2 s (a wide margin for a loaded machine).
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));

  test::Stub s;
  s.program().imports = {{"sqrt", "msvcrt.dll", "sqrt", "v:f64->f64"}};
  s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
  s.add("mov rax, [sqrt]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"sqrt", 0, 8}});
  s.add("call rax", x86::Inst::kIdCall, {x86::rax});
  const Image image = s.leave(40).image();
  const auto signature = *win64::parse_signature("x:f64,n:i64");
  ProbeReport r = test::probe_ok(image, {.signature = signature, .host = host.get()});
  REQUIRE(r.run.signature);
  CHECK(win64::to_string(*r.run.signature) == "x:f64,n:i64->u64");
  REQUIRE(r.calls.size() == 1);
  CHECK(r.run.calls[0].argument(0) == argument_canary(0));  // XMM0: the stub's first argument, passed through
}

TEST_CASE("a run host answers with the stand-ins it started with, and refuses others") {
  std::vector<StandIn> standins(builtin_standins().begin(), builtin_standins().end());
  for (StandIn& s : standins)
    if (s.function == "GetStdHandle") s.behaviour = fixed_handle;
  auto host = start_host(standins);
  const Image image = test::emit_catalog("badcallback", Variant::Abi, Model::Rip);
  // Changed after the start: this process sees the change, the run host kept the stand-ins as they were.
  for (StandIn& s : standins)
    if (s.function == "GetStdHandle") s.behaviour = other_handle;
  auto there = run_native(image, {.standins = standins, .host = host.get()});
  REQUIRE_MESSAGE(there.ok(), there.error().message);
  CHECK(there->calls.at(0).result == 0x1234);
  CHECK(there->calls.at(1).args[0] == 0x1234);
  auto here = run_native(image, {.standins = standins});
  REQUIRE(here.ok());
  CHECK(here->calls.at(0).result == 0x5678);

  auto refused = run_native(image, {.host = host.get()});  // the built-in stand-ins: not the ones it has
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("only with the stand-ins it started with") != std::string::npos);
}

TEST_CASE("a run host that is gone is an error, and the one after it works") {
  auto host = start_host();
  const Image image = test::emit_catalog("badsignal", Variant::Abi, Model::Go2012);
  REQUIRE(run_native(image, {.host = host.get()}).ok());
  REQUIRE(kill(host->pid(), SIGKILL) == 0);
  auto gone = run_native(image, {.host = host.get()});
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().message.find("the run host (pid") != std::string::npos);
  host.reset();  // reaps it
  auto next = start_host();
  CHECK(run_native(image, {.host = next.get()}).ok());
}

TEST_CASE("a run host ends with its RunHost: no process is left") {
  pid_t pid = 0;
  {
    auto host = start_host();
    pid = host->pid();
    CHECK(kill(pid, 0) == 0);
  }
  CHECK(waitpid(pid, nullptr, WNOHANG) < 0);  // reaped already: no longer a child of this process
  CHECK(errno == ECHILD);
}

TEST_CASE("a run host that stopped answering still ends with its RunHost") {
  auto host = start_host();
  const pid_t pid = host->pid();
  REQUIRE(kill(pid, SIGSTOP) == 0);  // it no longer sees its socket close
  auto ended = std::async(std::launch::async, [&] { host.reset(); });
  const bool prompt = ended.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!prompt) kill(pid, SIGKILL);  // lets the destructor return: the check below has failed
  ended.wait();
  CHECK(prompt);
  CHECK(waitpid(pid, nullptr, WNOHANG) < 0);  // reaped
}

TEST_CASE("a run host holds no file of this process's but the standard three: a pipe's reader here sees its end") {
  int fds[2];
  REQUIRE(pipe2(fds, O_NONBLOCK) == 0);
  auto host = start_host();
  close(fds[1]);
  char byte = 0;
  CHECK(read(fds[0], &byte, 1) == 0);  // the end of the pipe, not EAGAIN: nobody else holds its write end
  close(fds[0]);
}

TEST_CASE("a run host waits for its children even when this process ignores SIGCHLD") {
  struct sigaction old {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGCHLD, &ignore, &old) == 0);
  auto host = RunHost::start();
  sigaction(SIGCHLD, &old, nullptr);  // this process waits for its own children again
  REQUIRE_MESSAGE(host.ok(), host.error().message);
  auto report = run_native(test::emit_catalog("badsignal", Variant::Abi, Model::Rip), {.host = host->get()});
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  CHECK(report->returned());
}

TEST_CASE("runs from several threads through one run host take turns, each with its own report") {
  auto host = start_host();
  const Image images[2] = {test::emit_catalog("badcallback", Variant::Abi, Model::Rip),
                           test::emit_catalog("badsignal", Variant::Abi, Model::Rip)};
  const std::string expected[2] = {"runtime: cgo callback on thread not created by Go.\n",
                                    "runtime: signal received on thread not created by Go.\n"};
  std::atomic<int> right{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k) {
        const int which = (t + k) % 2;
        auto report = run_native(images[which], {.host = host.get()});
        (report.ok() && report->captured_stderr == expected[which] ? right : wrong)++;
      }
    });
  for (std::thread& thread : threads) thread.join();
  CHECK(right == 20);
  CHECK(wrong == 0);
}

TEST_CASE("a run host reads the Image back as an image file: code that does not decode is refused there, with why") {
  auto host = start_host();
  Image image = test::emit_catalog("badsignal", Variant::Abi, Model::Rip);
  image.text.bytes[0] = 0x06;  // PUSH ES: no instruction in 64-bit mode (only an Image built by hand has one)
  auto here = run_native(image);
  REQUIRE_MESSAGE(here.ok(), here.error().message);
  CHECK(name(here->ending) == name(Ending::Faulted));  // SIGILL, reported
  auto there = run_native(image, {.host = host.get()});
  REQUIRE_FALSE(there.ok());
  CHECK_MESSAGE(there.error().message.find("+0x0") != std::string::npos, there.error().message);
  CHECK(run_native(test::emit_catalog("badsignal", Variant::Abi, Model::Rip), {.host = host.get()}).ok());  // goes on
}

TEST_CASE("a run host runs a batch as this process does: one request, each report its own, a refused image in place") {
  auto host = start_host();
  Image refused = test::emit_catalog("badsignal", Variant::Abi, Model::Rip);
  refused.text.bytes[0] = 0x06;  // does not decode: refused by the run host alone
  std::vector<Image> images;
  for (int k = 0; k < 70; ++k)  // more than one child's worth
    images.push_back(k == 33 ? refused : test::emit_catalog(k % 2 ? "badsignal" : "badcallback", Variant::Abi, Model::Rip));
  const auto here = run_native_all(images, {.at_image_addresses = false});
  const auto there = run_native_all(images, {.at_image_addresses = false, .host = host.get()});
  REQUIRE(there.size() == images.size());
  for (size_t k = 0; k < images.size(); ++k) {
    CAPTURE(k);
    REQUIRE_MESSAGE(here[k].ok(), here[k].error().message);
    if (k == 33) {
      REQUIRE_FALSE(there[k].ok());
      CHECK_MESSAGE(there[k].error().message.find("+0x0") != std::string::npos, there[k].error().message);
      continue;
    }
    REQUIRE_MESSAGE(there[k].ok(), there[k].error().message);
    check_same_run(*here[k], *there[k]);
  }
  CHECK(run_native(images[0], {.host = host.get()}).ok());  // and goes on
}

TEST_CASE("a batch through a run host that is gone is an error for each image") {
  auto host = start_host();
  REQUIRE(kill(host->pid(), SIGKILL) == 0);
  const std::vector<Image> images(3, test::emit_catalog("badsignal", Variant::Abi, Model::Rip));
  const auto runs = run_native_all(images, {.host = host.get()});
  REQUIRE(runs.size() == 3);
  for (const auto& run : runs) {
    REQUIRE_FALSE(run.ok());
    CHECK(run.error().message.starts_with("badsignal: the run host (pid"));
  }
}
