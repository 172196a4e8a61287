#include "w64stub/exec/harness.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "outcome_p.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/exec/run_host.hpp"
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

// Waits for the child, blocked in poll on the setup pipe and a pidfd rather than sleeping and polling. The
// stub's time starts when its Setup arrives (setting it up does not count, up to kSetupLimit); once it has run
// for `timeout`, the child is asked where it is (kStopSignal), then its whole group is killed.
constexpr std::chrono::seconds kSetupLimit{10};

// Reads what the setup pipe has (non-blocking); true once all of `setup` is in.
bool read_setup(int fd, Setup& setup, size_t& got) {
  for (ssize_t n; got < sizeof setup && (n = read(fd, reinterpret_cast<char*>(&setup) + got, sizeof setup - got)) > 0;)
    got += static_cast<size_t>(n);
  return got == sizeof setup;
}

// Fills in the wait status, whether the stub started and whether it was stopped, and the Setup.
Status wait_for(pid_t pid, int setup_fd, std::chrono::milliseconds timeout, Execution& w) {
  using Clock = std::chrono::steady_clock;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 before Linux 5.3: 5 ms polls
  struct Close {
    int fd;
    ~Close() { if (fd >= 0) close(fd); }
  } close_pidfd{pidfd};
  size_t got = 0;
  auto deadline = Clock::now() + kSetupLimit;
  for (;;) {
    pid_t r = waitpid(pid, &w.status, WNOHANG);
    if (r == pid) {
      w.started = w.started || read_setup(setup_fd, w.setup, got);
      return Ok{};
    }
    if (r < 0 && errno != EINTR) return Error{fmt::format("waitpid: {}", std::strerror(errno))};
    if (!w.started && read_setup(setup_fd, w.setup, got)) {
      w.started = true;
      deadline = Clock::now() + timeout;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      if (w.stopped) {
        kill(-pid, SIGKILL);  // the whole process group
        waitpid(pid, &w.status, 0);
        return Ok{};
      }
      kill(pid, kStopSignal);
      w.stopped = true;
      deadline = now + std::chrono::seconds(1);
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    pollfd fds[2] = {{w.started ? -1 : setup_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    poll(fds, 2, static_cast<int>(pidfd < 0 ? std::min<int64_t>(left, 5) : std::min<int64_t>(left, INT32_MAX)));
  }
}

// The stub runs in the child and can exit with any status: an ending counts only with the outcome the
// harness's own code leaves for it (the signal handler's signal, the caller's return flag).
Ending ending_of(int status, bool stopped, const Outcome& out) {
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (stopped) return Ending::TimedOut;  // whether it answered the stop signal or not
  if (code == 0 && out.returned) return Ending::Returned;
  if (code == kExitFaulted && out.signal != 0 && out.signal != kStopSignal) return Ending::Faulted;
  return Ending::Died;
}

}  // namespace

// An external gets a callee like an import's, which only a CALL or JMP may reach: one whose address is
// taken or whose memory is read (data of another file) has nothing the harness could put there.
// Linear in the relocations: the externals are a set, each field's instruction is the one its instr_end ends.
static Status check_externals_called(const Image& image) {
  std::unordered_set<std::string_view> externals;
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::External) externals.insert(s.name);
  if (externals.empty()) return Ok{};
  for (const Relocation& r : image.relocations) {
    if (!externals.count(r.symbol)) continue;
    const InstrInfo* in = image.instr_ending_at(r.instr_end);
    if (in && !(r.offset >= in->offset && r.offset < in->offset + in->length)) in = nullptr;
    auto d = in ? decode_one({image.text.bytes.data() + in->offset, in->length}, image.text.address + in->offset)
                : Expected<Decoded>(Error{"no instruction"});
    if (!d || (d->flow != Flow::Call && d->flow != Flow::Jump && d->flow != Flow::Branch))
      return Error{fmt::format("{}: {} is external and not called ({}): a run can bind only functions of other files",
                               image.stub, r.symbol, d ? d->text : d.error().message)};
  }
  return Ok{};
}

namespace harness {

Expected<Execution> execute(const Image& image, const RunOptions& options, Outcome* out) {
  if (auto prepared = prepare_sandbox(); !prepared) return prepared.error();
  int setup_pipe[2];
  if (pipe2(setup_pipe, O_CLOEXEC) != 0) return Error{fmt::format("pipe: {}", std::strerror(errno))};
  pid_t pid = fork();
  if (pid < 0) {
    close(setup_pipe[0]);
    close(setup_pipe[1]);
    return Error{fmt::format("fork: {}", std::strerror(errno))};
  }
  if (pid == 0) child_main(image, options, out, setup_pipe[1]);
  setpgid(pid, pid);  // as the child does: whichever runs first
  close(setup_pipe[1]);
  fcntl(setup_pipe[0], F_SETFL, O_NONBLOCK);
  Execution done;
  auto waited = wait_for(pid, setup_pipe[0], options.timeout, done);
  close(setup_pipe[0]);
  done.group_ended = end_process_group(pid);
  if (!waited) return waited.error();
  return done;
}

}  // namespace harness

namespace {

// The report of a finished execution, or why the stub was never called.
Expected<RunReport> finish(const Image& image, const RunOptions& options, const Outcome& out, const Execution& done) {
  const int status = done.status;
  // Before the Setup arrived the stub was not called: the harness failed, whatever the child left.
  if (!done.started) {
    std::string why(out.error, strnlen(out.error, sizeof out.error));
    if (why.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != kExitSetupFailed)
      why = fmt::format("the harness's child ended before the call (wait status {:#x})", status);
    return Error{fmt::format("{}: {}", image.stub, why)};
  }
  RunReport report = collect(image, options, out, done.setup);
  report.processes_left = !done.group_ended;
  report.ending = ending_of(status, done.stopped, out);
  if (report.ending == Ending::Died) {
    report.fault.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    report.fault.code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  }
  return report;
}

}  // namespace

Expected<RunReport> run_native(const Image& image, const RunOptions& options) {
  if (options.signature && options.signature->count() > kMaxStubArguments)
    return Error{fmt::format("{}: a stub may declare up to {} arguments", image.stub, kMaxStubArguments)};
  if (auto s = check_externals_called(image); !s) return s.error();
  if (RunHost* host = options.host) {
    std::lock_guard lock(host->mutex_);
    auto done = host->execute(image, options);
    if (!done) return done.error();
    return finish(image, options, *host->outcome_, *done);
  }
  auto out = map_outcome();
  if (!out) return out.error();
  auto done = execute(image, options, out->get());
  if (!done) return done.error();
  return finish(image, options, **out, *done);
}

}  // namespace w64stub
