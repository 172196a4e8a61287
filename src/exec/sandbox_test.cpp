// The sandbox of native runs, and what a stub cannot do to the harness: hostile system calls, survivors,
// huge writes, exit statuses that pass for the harness's own, breakpoints, import slots in code, and the three
// mutations of the probe that once survived the suite.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../testing/hostile.hpp"
#include "../testing/probe_stubs.hpp"
#include "sandbox_p.hpp"
#include "../testing/test_support.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

using test::find_rule;
using test::probe_ok;
using test::rules;
using test::Stub;

namespace {

// The processes whose process group is `group`, from /proc (the run's child has long been reaped).
int processes_in_group(pid_t group) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    count += pgrp == group && state != 'Z';
  }
  return count;
}

// A stub that makes one Linux system call (number in EAX, arguments as given) and returns.
Image syscall_stub(int number, std::vector<std::pair<asmjit::x86::Gp, Operand>> args, std::vector<DataSymbol> data = {}) {
  Stub s;
  for (auto& [reg, value] : args) s.add("mov", x86::Inst::kIdMov, {reg, value});
  s.add(fmt::format("mov eax, {}", number), x86::Inst::kIdMov, {x86::eax, asmjit::Imm(number)});
  s.add("syscall", x86::Inst::kIdSyscall);
  s.program().data = std::move(data);
  return s.add("ret", x86::Inst::kIdRet).image();
}

}  // namespace

TEST_CASE("the sandbox: a stub cannot fork, kill, create files or make code writable - each a syscall violation") {
  const std::string path = fmt::format("/tmp/w64stub-hostile-{}", getpid());
  std::vector<uint8_t> path_bytes(path.begin(), path.end());
  path_bytes.push_back(0);
  const auto imm = [](int64_t v) { return Operand(asmjit::Operand(asmjit::Imm(v))); };
  struct Case {
    const char* what;
    Image image;
    std::string denied;
  };
  const Case cases[] = {
      {"fork", syscall_stub(57, {}), "fork (57)"},
      {"kill the parent", syscall_stub(62, {{x86::edi, imm(getpid())}, {x86::esi, imm(SIGKILL)}}), "kill (62)"},
      {"create a file",
       syscall_stub(2, {{x86::edi, SymbolAddr{"path", 0}}, {x86::esi, imm(0x41)}, {x86::edx, imm(0644)}},
                    {{"path", path_bytes, 1}}),
       "open (2)"},
      {"make memory executable", syscall_stub(10, {{x86::edi, imm(0x10000)}, {x86::esi, imm(4096)}, {x86::edx, imm(7)}}),
       "mprotect (10)"},
      {"execve", syscall_stub(59, {}), "execve (59)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    auto report = run_native(c.image);
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    const ProbeReport r = check_contract(c.image, *report);
    REQUIRE(rules(r) == "syscall");
    CHECK(r.violations[0].message.starts_with("a system call the sandbox denies: " + c.denied + " at +0x"));
    CHECK(r.violations[0].instruction == "syscall");
    CHECK_FALSE(report->processes_left);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("the sandbox: no process of a run outlives it, and the child has only fds 0-2") {
  // A stub that spins: stopped at the timeout, with its whole process group.
  Stub s;
  s.label("spin").add("jmp spin", x86::Inst::kIdJmp, {CodeLabel{"spin"}});
  auto report = run_native(s.add("ret", x86::Inst::kIdRet).image(), {.timeout = std::chrono::milliseconds(100)});
  REQUIRE(report.ok());
  CHECK(report->ending == Ending::TimedOut);
  CHECK_FALSE(report->processes_left);
  // fcntl(3, F_GETFD): denied by the filter, or (sanitizer builds, whose filter only traps what a hostile
  // stub would do) EBADF: nothing beyond fds 0-2 is open.
  auto fd = run_native(syscall_stub(72, {{x86::edi, asmjit::Operand(asmjit::Imm(3))}, {x86::esi, asmjit::Operand(asmjit::Imm(1))}}));
  REQUIRE(fd.ok());
  CHECK((fd->fault.signal == SIGSYS || fd->value == static_cast<uint64_t>(-EBADF)));
  CHECK(processes_in_group(getpgrp()) >= 1);  // this test process's own group, for comparison: the check sees groups
}

TEST_CASE("a WriteFile of more than the capture keeps the host alive, and each call keeps its own bytes") {
  for (size_t first : {size_t{20000}, size_t{10000}}) {
    CAPTURE(first);
    std::vector<uint8_t> text(first, 'a');
    std::vector<uint8_t> second(10000, 'b');
    Stub s;
    s.program().data = {{"first", text, 1}, {"second", second, 1}};
    s.add("sub rsp, 56", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(56)});
    for (const char* buffer : {"first", "second"}) {
      const uint32_t size = std::string(buffer) == "first" ? static_cast<uint32_t>(first) : 10000u;
      s.add("mov ecx, -12", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-12)});
      s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
      s.add("call rax", x86::Inst::kIdCall, {x86::rax});
      s.add("mov rcx, rax", x86::Inst::kIdMov, {x86::rcx, x86::rax});
      s.add("mov rdx, buffer", x86::Inst::kIdMov, {x86::rdx, SymbolAddr{buffer, 0}});
      s.add("mov r8d, size", x86::Inst::kIdMov, {x86::r8d, asmjit::Imm(size)});
      s.add("xor r9d, r9d", x86::Inst::kIdXor, {x86::r9d, x86::r9d});
      s.add("mov qword [rsp+32], 0", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 32), asmjit::Imm(0)});
      s.add("mov rax, [WriteFile]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"WriteFile", 0, 8}});
      s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    }
    Image image = s.leave(56).image(Model::Rip);
    auto report = run_native(image);
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    REQUIRE(report->calls.size() == 4);
    CHECK(report->calls[1].result == 1);
    CHECK(report->calls[3].result == 1);
    const size_t kept_first = std::min<size_t>(first, 16384);
    CHECK(report->calls[1].output == std::string(kept_first, 'a'));
    CHECK(report->calls[3].output == std::string(std::min<size_t>(10000, 16384 - kept_first), 'b'));
    CHECK(report->captured_stderr.size() == std::min<size_t>(first + 10000, 16384));
  }
}

TEST_CASE("a stub cannot pass for the harness: exit statuses, breakpoints and import slots") {
  // exit_group(70) and (71) once the stub runs: not a setup error, not a fault - the process died.
  for (int status : {70, 71, 72}) {
    CAPTURE(status);
    auto report = run_native(syscall_stub(231, {{x86::edi, asmjit::Operand(asmjit::Imm(status))}}));
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    CHECK(report->ending == Ending::Died);
    CHECK(report->fault.code == status);
  }
  // INT3 is reported at the breakpoint, not at the instruction after it.
  Stub s;
  s.add("nop", x86::Inst::kIdNop).add("int3", x86::Inst::kIdInt3);
  const int line = s.line();
  Image image = s.add("ret", x86::Inst::kIdRet).image();
  ProbeReport r = probe_ok(image);
  REQUIRE(rules(r) == "fault");
  CHECK(r.violations[0].offset == Stub::offset_of_line(line, image));
  CHECK(r.violations[0].message == "SIGTRAP (a breakpoint) at +0x1");
  // An image whose import slot lies in its code is refused, not written into.
  Image slot_in_code = test::emit_catalog("badsignal", Variant::Fixed, Model::Go2012);
  for (Symbol& sym : slot_in_code.symbols)
    if (sym.kind == SymbolKind::Import) sym.address = slot_in_code.text.address;
  auto refused = run_native(slot_in_code);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("import slot runtime·GetStdHandle at 0x402000 lies outside the image's data") !=
        std::string::npos);
}

TEST_CASE("what three mutations of the probe got past: the high half of XMM6, the home area by 8, rel32 with an immediate") {
  // Only the high 64 bits of XMM6 change.
  Stub high;
  high.add("movhps xmm6, [rsp]", x86::Inst::kIdMovhps, {x86::xmm6, x86::qword_ptr(x86::rsp)});
  ProbeReport r = probe_ok(high.add("ret", x86::Inst::kIdRet).image());
  REQUIRE(rules(r) == "nonvolatile");
  CHECK(r.violations[0].message.starts_with("XMM6 is nonvolatile"));
  // A home area 8 bytes short: the callee's reaches over the return address by exactly 8.
  Stub short_home;
  short_home.get_std_handle(24);
  const int call = short_home.line();
  Image image = short_home.leave(24).image();
  ProbeReport h = probe_ok(image);
  const Violation* home = find_rule(h, "home-area");
  REQUIRE(home);
  CHECK(home->offset == Stub::offset_of_line(call, image));
  CHECK(home->message.find("reaches 8 bytes above the stub's frame") != std::string::npos);
  // cmp dword [rip+x], imm32: the displacement is relative to the end of the instruction, past the immediate.
  for (bool relocate : {false, true}) {
    Stub rel;
    rel.program().data = {{"cell", {0x78, 0x56, 0x34, 0x12}, 4}};
    rel.add("mov eax, 1", x86::Inst::kIdMov, {x86::eax, asmjit::Imm(1)});
    rel.add("cmp dword [cell], 0x12345678", x86::Inst::kIdCmp, {SymbolMem{"cell", 0, 4}, asmjit::Imm(0x12345678)});
    rel.add("jne out", x86::Inst::kIdJne, {CodeLabel{"out"}});
    rel.add("mov eax, 2", x86::Inst::kIdMov, {x86::eax, asmjit::Imm(2)});
    rel.label("out");
    auto report = run_native(rel.add("ret", x86::Inst::kIdRet).image(Model::Rip), {.at_image_addresses = !relocate});
    REQUIRE(report.ok());
    CHECK(report->returned());
    CHECK(report->value == 2);
  }
}

TEST_CASE("rip-model data lives in the read-execute text: a stub reads it, a store to it faults") {
  Stub store;
  store.program().data = {{"cell", {0, 0, 0, 0}, 4}};
  store.add("mov dword [cell], 1", x86::Inst::kIdMov, {SymbolMem{"cell", 0, 4}, asmjit::Imm(1)});
  const int line = store.line();
  Image image = store.add("ret", x86::Inst::kIdRet).image(Model::Rip);
  ProbeReport r = probe_ok(image);
  REQUIRE(rules(r) == "fault");
  CHECK(r.violations[0].offset == Stub::offset_of_line(line, image));
  CHECK(r.violations[0].message.starts_with("SIGSEGV touching 0x"));
}


TEST_CASE("the sandbox's resource limits and capabilities: no core, CPU for the timeout, 16 fds, no new processes, bounded address space, no capabilities") {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // each failed expectation sets a bit of the exit status
    int failed = harness::apply_limits(std::chrono::milliseconds(3000)) ? 0 : 1;
    rlimit r{};
    getrlimit(RLIMIT_CORE, &r), failed |= r.rlim_max == 0 ? 0 : 2;
    getrlimit(RLIMIT_CPU, &r), failed |= r.rlim_max <= 5 ? 0 : 4;
    getrlimit(RLIMIT_NOFILE, &r), failed |= r.rlim_max <= 16 ? 0 : 8;
    getrlimit(RLIMIT_NPROC, &r), failed |= r.rlim_max == 0 ? 0 : 16;
    getrlimit(RLIMIT_AS, &r), failed |= test::kAsanBuild || r.rlim_max <= harness::kAddressSpaceLimit ? 0 : 32;
    failed |= harness::drop_capabilities() ? 0 : 128;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
    syscall(SYS_capget, &header, caps);
    for (const auto& c : caps) failed |= c.effective || c.permitted || c.inheritable ? 256 : 0;
    // The kernel does not hold root to RLIMIT_NPROC: there only the seccomp filter stops a fork.
    if (geteuid() != 0) {
      const pid_t grandchild = fork();
      if (grandchild == 0) _exit(0);
      failed |= grandchild < 0 && errno == EAGAIN ? 0 : 64;
    }
    _exit(std::min(failed, 255));
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("the child's census of writable and executable mappings counts one made so, as the test's own reading does") {
  const int before = harness::count_wx_mappings();
  CHECK(before == test::wx_mappings());
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    MESSAGE("this kernel refuses a writable and executable mapping; the census has nothing to find");
    return;
  }
  CHECK(harness::count_wx_mappings() == before + 1);
  CHECK(harness::count_wx_mappings() == test::wx_mappings());
  void* writable = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(harness::count_wx_mappings() == before + 1);  // writable alone does not count
  munmap(writable, 4096);
  munmap(page, 4096);
  CHECK(harness::count_wx_mappings() == before);
}

TEST_CASE("the child keeps no descriptor of the host but the harness's pipe, moved to 3, and reads nothing from stdin") {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const int stray = open("/dev/null", O_WRONLY);  // stands for a file the host has open
  REQUIRE(stray >= 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // each failed expectation sets a bit of the exit status
    int input[2];  // a stdin with something in it, which the child must no longer see
    if (pipe(input) != 0 || write(input[1], "y", 1) != 1 || dup2(input[0], 0) != 0) _exit(16);
    const int kept = harness::isolate_process(pipe_fds[1]);
    int failed = kept == 3 ? 0 : 1;
    failed |= write(kept, "x", 1) == 1 ? 0 : 2;  // the pipe, now at 3
    for (int fd = 4; fd < 64; ++fd) failed |= fcntl(fd, F_GETFD) == -1 ? 0 : 4;
    char byte = 0;
    failed |= read(0, &byte, 1) == 0 ? 0 : 8;  // /dev/null: end of file at once
    _exit(failed);
  }
  close(pipe_fds[1]);
  close(stray);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  char byte = 0;
  CHECK(read(pipe_fds[0], &byte, 1) == 1);
  CHECK(byte == 'x');
  close(pipe_fds[0]);
}
