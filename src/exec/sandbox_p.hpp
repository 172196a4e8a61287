// The sandbox of a native run: the child the stub runs in cannot reach past itself. It has its own process
// group (killed as a whole), no new privileges, no core files, a CPU limit, only fds 0-2 (stdin /dev/null), and
// a seccomp filter (libseccomp) that traps every system call but the few the harness needs while the stub
// runs: writes to fds 1 and 2, reads and writes of its own memory (process_vm_readv/writev), memory without
// PROT_EXEC, and exit. A trapped call ends the run as a `syscall` violation with its number and offset.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>

#include "w64stub/core/error.hpp"

namespace w64stub::harness {

// In the child, first: its own process group, stdin /dev/null, fds 0-2 and `keep` only (moved to 3: returned).
int isolate_process(int keep);

// In the child, before the call: how many of its mappings are writable and executable at once (from
// /proc/self/maps); -1 when that cannot be read.
int count_wx_mappings();

// In the parent, before the first fork: compiles the seccomp filter once (children inherit it).
Status prepare_sandbox();

// In the child, just before the stub is called: limits and the seccomp filter (the prepared one, with the
// child's pid put in).
Status enter_sandbox(std::chrono::milliseconds timeout);

// The resource limits alone (enter_sandbox's first step): no core files, CPU seconds for the timeout, 16 fds,
// no new processes, and (outside sanitizer builds) kAddressSpaceLimit of address space; never raised.
inline constexpr rlim_t kAddressSpaceLimit = rlim_t{16} << 30;
Status apply_limits(std::chrono::milliseconds timeout);

// No capabilities left, effective, permitted or inheritable: a run as root keeps uid 0 but not its powers
// (to kill others' processes, to override file permissions).
Status drop_capabilities();

// The name of a system call number ("fork"), or its number.
std::string syscall_name(int number);

// In the parent: ends every process of the run's group; true when none is left (read from /proc).
bool end_process_group(pid_t group);

}  // namespace w64stub::harness
