#include "w64stub/exec/harness.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "outcome_p.hpp"
#include "sandbox_p.hpp"

namespace w64stub {

using namespace harness;

std::string_view name(Ending ending) {
  switch (ending) {
    case Ending::Returned: return "returned";
    case Ending::Faulted: return "faulted";
    case Ending::TimedOut: return "timed out";
    case Ending::Died: return "died";
  }
  return "?";
}

std::string_view name(Host host) { return host == Host::Native ? "native" : "wine"; }

uint64_t RunReport::address_of(std::string_view symbol) const {
  for (const auto& [name, address] : placed)
    if (name == symbol) return address;
  return 0;
}

Nonvolatiles canaries() {
  Nonvolatiles c;
  for (size_t i = 0; i < c.gp.size(); ++i) c.gp[i] = 0xC0DE'0000'0000'0000 + 0x100 * (i + 1);
  for (size_t j = 0; j < c.xmm.size(); ++j) {
    const uint64_t reg = win64::kFirstNonvolatileXmm + j;
    c.xmm[j] = {0xC0DE'0001'0000'0000 + 0x100 * reg, 0xC0DE'0002'0000'0000 + 0x100 * reg};
  }
  c.mxcsr = win64::kDefaultMxcsr;
  return c;
}

uint64_t marker_word(int index) { return 0xCA11'E4F0'0000'0000 + static_cast<uint64_t>(index); }

uint64_t argument_canary(int index) { return 0xA4C0'0000'0000'0000 + 0x100 * static_cast<uint64_t>(index + 1); }

namespace {

// Waits for the child; once the stub has run for `timeout` (setting it up does not count, up to kSetupLimit),
// asks it where it is (kStopSignal), then kills it.
constexpr std::chrono::seconds kSetupLimit{10};

Expected<int> wait_for(pid_t pid, std::chrono::milliseconds timeout, const Outcome& out, bool* stopped) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + kSetupLimit;
  bool started = false;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return Error{fmt::format("waitpid: {}", std::strerror(errno))};
    // The caller trampoline writes rsp_before_call just before it calls the stub.
    if (!started && __atomic_load_n(&out.rsp_before_call, __ATOMIC_ACQUIRE) != 0) {
      started = true;
      deadline = Clock::now() + timeout;
    }
    if (Clock::now() >= deadline) {
      if (*stopped) {
        kill(-pid, SIGKILL);  // the whole process group
        waitpid(pid, &status, 0);
        return status;
      }
      kill(pid, kStopSignal);
      *stopped = true;
      deadline = Clock::now() + std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

// The stub runs in the child and can exit with any status: an ending counts only with the outcome the
// harness's own code leaves for it (the signal handler's signal, the caller's return flag).
Ending ending_of(int status, bool stopped, const Outcome& out) {
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0 && out.returned) return Ending::Returned;
  if (code == kExitFaulted && out.signal != 0 && out.signal != kStopSignal) return Ending::Faulted;
  if (code == kExitStopped && out.signal == kStopSignal) return Ending::TimedOut;
  if (stopped) return Ending::TimedOut;  // did not even answer the stop signal
  return Ending::Died;
}

}  // namespace

Expected<RunReport> run_native(const Image& image, const RunOptions& options) {
  if (options.signature && options.signature->count() > kMaxStubArguments)
    return Error{fmt::format("{}: a stub may declare up to {} arguments", image.stub, kMaxStubArguments)};
  void* shared = mmap(nullptr, sizeof(Outcome), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return Error{fmt::format("mmap of the shared outcome: {}", std::strerror(errno))};
  struct Unmap {
    void* p;
    ~Unmap() { munmap(p, sizeof(Outcome)); }
  } unmap{shared};
  auto* out = static_cast<Outcome*>(shared);

  pid_t pid = fork();
  if (pid < 0) return Error{fmt::format("fork: {}", std::strerror(errno))};
  if (pid == 0) child_main(image, options, out);
  setpgid(pid, pid);  // as the child does: whichever runs first

  bool stopped = false;
  auto status = wait_for(pid, options.timeout, *out, &stopped);
  const bool group_ended = end_process_group(pid);
  if (!status) return status.error();
  // A setup failure is one before the stub was called: after that, the stub may have chosen this status.
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == kExitSetupFailed && out->rsp_before_call == 0)
    return Error{fmt::format("{}: {}", image.stub, std::string(out->error, strnlen(out->error, sizeof out->error)))};

  RunReport report = collect(image, options, *out);
  report.processes_left = !group_ended;
  report.ending = ending_of(*status, stopped, *out);
  if (report.ending == Ending::Died) {
    report.fault.signal = WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
    report.fault.code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 0;
  }
  return report;
}

}  // namespace w64stub
