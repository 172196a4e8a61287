#include "w64stub/exec/harness.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>
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

// The Setups a child sends, their count first, read without blocking as they come.
class SetupReader {
 public:
  explicit SetupReader(size_t most) : most_(most), bytes_(sizeof(uint32_t) + most * sizeof(Setup)) {}
  bool read(int fd) {  // true once all are in
    for (ssize_t n; !complete() && (n = ::read(fd, bytes_.data() + got_, wanted() - got_)) > 0;)
      got_ += static_cast<size_t>(n);
    return complete();
  }
  size_t count() const {
    uint32_t count = 0;
    if (got_ >= sizeof count) std::memcpy(&count, bytes_.data(), sizeof count);
    return std::min<size_t>(count, most_);
  }
  Setup setup(size_t k) const {
    Setup setup;
    std::memcpy(&setup, bytes_.data() + sizeof(uint32_t) + k * sizeof(Setup), sizeof setup);
    return setup;
  }

 private:
  size_t wanted() const { return sizeof(uint32_t) + (got_ < sizeof(uint32_t) ? 0 : count() * sizeof(Setup)); }
  bool complete() const { return got_ >= sizeof(uint32_t) && got_ == wanted(); }
  size_t most_;
  std::vector<char> bytes_;
  size_t got_ = 0;
};

// How many stubs, from the first, returned: the one after them is running. The stubs can write these fields
// too; a wrong count only moves a deadline or the blame within the child's own stubs.
size_t returned_count(const Outcome* outs, size_t count) {
  size_t k = 0;
  while (k < count && __atomic_load_n(&outs[k].returned, __ATOMIC_RELAXED) != 0 &&
         __atomic_load_n(&outs[k].signal, __ATOMIC_RELAXED) == 0)
    ++k;
  return k;
}

struct ChildEnd {
  int status = 0;
  bool started = false;  // the Setups arrived: the first stub was called
  bool stopped = false;
};

// Waits for the child, blocked in poll on the setup pipe and a pidfd rather than sleeping and polling. A stub's
// time starts when it is seen called: the first when the Setups arrive (building them does not count, up to
// kSetupLimit), each later one when the one before is seen returned, looked at every eighth of the timeout.
// Once a stub has run for `timeout`, the child is asked where it is (kStopSignal), then its whole group killed.
Status wait_for(pid_t pid, int setup_fd, std::chrono::milliseconds timeout, const Outcome* outs, SetupReader& setups,
                ChildEnd& w) {
  using Clock = std::chrono::steady_clock;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 before Linux 5.3: 5 ms polls
  struct Close {
    int fd;
    ~Close() { if (fd >= 0) close(fd); }
  } close_pidfd{pidfd};
  auto deadline = Clock::now() + kSetupLimit;
  size_t running = 0;
  for (;;) {
    pid_t r = waitpid(pid, &w.status, WNOHANG);
    if (r == pid) {
      w.started = w.started || (setups.read(setup_fd) && setups.count() > 0);
      return Ok{};
    }
    if (r < 0 && errno != EINTR) return Error{fmt::format("waitpid: {}", std::strerror(errno))};
    const auto now = Clock::now();
    if (!w.started && setups.read(setup_fd) && setups.count() > 0) {
      w.started = true;
      deadline = now + timeout;
    }
    if (const size_t k = w.started ? returned_count(outs, setups.count()) : 0; k != running && !w.stopped) {
      running = k;
      deadline = now + timeout;
    }
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
    int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    if (w.started && !w.stopped && setups.count() > 1) left = std::min<int64_t>(left, timeout.count() / 8 + 1);
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

Expected<std::vector<Execution>> execute(std::span<const Image* const> images, const RunOptions& options,
                                         Outcome* outs) {
  if (auto prepared = prepare_sandbox(); !prepared) return prepared.error();
  int setup_pipe[2];
  if (pipe2(setup_pipe, O_CLOEXEC) != 0) return Error{fmt::format("pipe: {}", std::strerror(errno))};
  pid_t pid = fork();
  if (pid < 0) {
    close(setup_pipe[0]);
    close(setup_pipe[1]);
    return Error{fmt::format("fork: {}", std::strerror(errno))};
  }
  if (pid == 0) child_main(images, options, outs, setup_pipe[1]);
  setpgid(pid, pid);  // as the child does: whichever runs first
  close(setup_pipe[1]);
  fcntl(setup_pipe[0], F_SETFL, O_NONBLOCK);
  SetupReader setups(images.size());
  ChildEnd end;
  auto waited = wait_for(pid, setup_pipe[0], options.timeout, outs, setups, end);
  close(setup_pipe[0]);
  const bool group_ended = end_process_group(pid);
  if (!waited) return waited.error();
  std::vector<Execution> done(images.size());
  done[0].status = end.status;
  done[0].group_ended = group_ended;
  if (!end.started) return done;
  const size_t prepared = setups.count();
  const size_t last = std::min(returned_count(outs, prepared), prepared - 1);  // the one that ended the child
  for (size_t k = 0; k <= last; ++k)
    done[k] = Execution{k == last ? end.status : 0, true, k == last && end.stopped, group_ended, setups.setup(k)};
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

// What keeps an Image from a native run before any process starts.
static Status check_runnable(const Image& image, const RunOptions& options) {
  if (options.signature && options.signature->count() > kMaxStubArguments)
    return Error{fmt::format("{}: a stub may declare up to {} arguments", image.stub, kMaxStubArguments)};
  return check_externals_called(image);
}

Expected<RunReport> run_native(const Image& image, const RunOptions& options) {
  return std::move(run_native_all({&image, 1}, options).front());
}

namespace harness {

void execute_all(std::span<const Image* const> images, const RunOptions& options, const EachExecution& each) {
  for (size_t next = 0; next < images.size();) {
    const auto batch = images.subspan(next, std::min(kBatchLimit, images.size() - next));
    auto outs = map_outcomes(batch.size());
    auto done = outs ? execute(batch, options, outs->get()) : Expected<std::vector<Execution>>(outs.error());
    if (!done) {
      each(next++, nullptr, done.error());
      continue;
    }
    // The stubs the child called, in order; at least the first, whose report says why it was not called. One
    // that ended the child after others ran there runs again, first in the next child: whatever it did is then
    // judged as alone, not after what the stubs before it may have done to their shared process.
    size_t k = 0;
    do {
      const Execution& e = (*done)[k];
      const bool last_called = k + 1 == batch.size() || !(*done)[k + 1].started;
      if (k > 0 && last_called && ending_of(e.status, e.stopped, outs->get()[k]) != Ending::Returned) break;
      each(next + k, &outs->get()[k], e);
    } while (++k < batch.size() && (*done)[k].started);
    next += k;
  }
}

}  // namespace harness

std::vector<Expected<RunReport>> run_native_all(std::span<const Image> images, const RunOptions& options) {
  std::vector<std::optional<Expected<RunReport>>> reports(images.size());
  std::vector<const Image*> runnable;
  std::vector<size_t> where;  // each runnable Image's index in `images`
  for (size_t i = 0; i < images.size(); ++i) {
    if (auto s = check_runnable(images[i], options); !s) reports[i] = s.error();
    else runnable.push_back(&images[i]), where.push_back(i);
  }
  auto each = [&](size_t k, const Outcome* out, Expected<Execution> done) {
    reports[where[k]] = done ? finish(*runnable[k], options, *out, *done) : Expected<RunReport>(done.error());
  };
  if (RunHost* host = options.host) {
    std::lock_guard lock(host->mutex_);
    if (auto sent = host->execute_all(runnable, options, each); !sent)
      for (size_t i = 0; i < images.size(); ++i)
        if (!reports[i]) reports[i] = Error{fmt::format("{}: {}", images[i].stub, sent.error().message)};
  } else {
    execute_all(runnable, options, each);
  }
  std::vector<Expected<RunReport>> out;
  out.reserve(reports.size());
  for (auto& report : reports) out.push_back(std::move(*report));
  return out;
}

}  // namespace w64stub
