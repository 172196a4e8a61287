// RunHost: a small process that forks the children of native runs, so that a run costs the same in a host
// that has grown large. fork copies the page tables of every resident page and the child's exit drops them
// again: after 90 MB of heap a probe takes 5-6 ms instead of under 1 ms (BENCHMARKS.md).
//
// start() forks this process once, early, while it is small: the run host keeps a copy of it as it is then:
// its stand-ins (std::functions in this memory), working directory, environment and standard streams (where
// a run that does not capture writes). Each run then sends the Image (as an image file) and the options over
// a socket; the run host forks the child from its own small self; the child leaves its outcome in memory the
// three processes share, and the report is built here, as without a run host. Runs through one RunHost take
// turns (it has one outcome page). A batch (run_native_all, probe_all) goes over in one request: the run host
// runs it up to 64 stubs to a child and hands back one outcome at a time. The run host reads the Image back as `w64stub run FILE.image` does: code
// that does not decode is refused there (emit and adopt never make such an Image; only one built by hand).
//
//   auto host = RunHost::start();            // first thing in main, before threads and big allocations
//   auto report = probe(image, {.host = host->get()});
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <utility>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/exec/standins.hpp"

namespace w64stub {

namespace harness {
struct Outcome;
struct Execution;
struct UnmapOutcome {  // outcome_p.hpp: an Outcome in shared memory
  void operator()(Outcome* out) const;
};
}  // namespace harness

class RunHost {
 public:
  // Forks the run host. Start it before this process has threads (fork keeps only the calling one). Every
  // run through it must answer its imports with these stand-ins (the same span), which must outlive it.
  static Expected<std::unique_ptr<RunHost>> start(std::span<const StandIn> standins = builtin_standins());
  ~RunHost();  // ends the run host process and reaps it
  RunHost(const RunHost&) = delete;
  RunHost& operator=(const RunHost&) = delete;

  pid_t pid() const { return pid_; }
  std::span<const StandIn> standins() const { return standins_; }

 private:
  using SharedOutcome = std::unique_ptr<harness::Outcome, harness::UnmapOutcome>;
  RunHost(pid_t pid, int socket, SharedOutcome outcome, std::span<const StandIn> standins)
      : pid_(pid), socket_(socket), outcome_(std::move(outcome)), standins_(standins) {}
  // Has the run host run the Images, up to 64 to a child as run_native_all does here; `each` gets every one's
  // index and Execution (or why it could not run), its outcome in *outcome_ meanwhile. An error: the run host
  // is gone, and the Images `each` did not get are not run.
  using EachExecution = std::function<void(size_t index, const harness::Outcome* out, Expected<harness::Execution> done)>;
  Status execute_all(std::span<const Image* const> images, const RunOptions& options, const EachExecution& each);
  friend std::vector<Expected<RunReport>> run_native_all(std::span<const Image> images, const RunOptions& options);

  pid_t pid_;
  int socket_;
  SharedOutcome outcome_;
  std::span<const StandIn> standins_;
  std::mutex mutex_;  // one run at a time
};

}  // namespace w64stub
