#include "sandbox_p.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <fmt/format.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define W64STUB_HAS_ASAN 1
#endif
#endif
#ifndef W64STUB_HAS_ASAN
#define W64STUB_HAS_ASAN 0
#endif

namespace w64stub::harness {

int isolate_process(int keep) {
  setpgid(0, 0);
  const int null = open("/dev/null", O_RDONLY);
  if (null >= 0) dup2(null, 0);
  if (keep != 3) {
    dup2(keep, 3);  // 3 <= keep: the one fd left beyond 0-2
    keep = 3;
  }
  close_range(4, UINT_MAX, 0);
  return keep;
}

namespace {

Status add(scmp_filter_ctx ctx, uint32_t action, int syscall, std::initializer_list<scmp_arg_cmp> args) {
  const int rc = seccomp_rule_add_array(ctx, action, syscall, static_cast<unsigned>(args.size()),
                                        args.size() ? args.begin() : nullptr);
  if (rc < 0) return Error{fmt::format("seccomp rule for {}: {}", syscall_name(syscall), std::strerror(-rc))};
  return Ok{};
}
[[maybe_unused]] Status rule(scmp_filter_ctx ctx, int syscall, std::initializer_list<scmp_arg_cmp> args = {}) {
  return add(ctx, SCMP_ACT_ALLOW, syscall, args);
}
[[maybe_unused]] Status trap(scmp_filter_ctx ctx, int syscall, std::initializer_list<scmp_arg_cmp> args = {}) {
  return add(ctx, SCMP_ACT_TRAP, syscall, args);
}

// SCMP_A0..SCMP_A5 without their C compound literals: argument `index` compared with `a` (masked: by `a`, to `b`).
scmp_arg_cmp arg(unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) { return scmp_arg_cmp{index, op, a, b}; }

}  // namespace

Status apply_limits(std::chrono::milliseconds timeout) {
  const rlim_t cpu = static_cast<rlim_t>(timeout.count() / 1000 + 2);
  std::vector<std::pair<int, rlimit>> limits = {
      {RLIMIT_CORE, {0, 0}}, {RLIMIT_CPU, {cpu, cpu}}, {RLIMIT_NOFILE, {16, 16}}, {RLIMIT_NPROC, {0, 0}}};
  // Sanitizer runtimes reserve terabytes of shadow address space: no address-space limit there.
  if (!W64STUB_HAS_ASAN) limits.push_back({RLIMIT_AS, {kAddressSpaceLimit, kAddressSpaceLimit}});
  for (const auto& [resource, limit] : limits) {
    rlimit current{};
    getrlimit(resource, &current);
    const rlimit lowered{std::min(limit.rlim_cur, current.rlim_max), std::min(limit.rlim_max, current.rlim_max)};
    if (setrlimit(resource, &lowered) != 0) return Error{fmt::format("setrlimit: {}", std::strerror(errno))};
  }
  return Ok{};
}

Status drop_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, none) != 0) return Error{fmt::format("capset: {}", std::strerror(errno))};
  return Ok{};
}

namespace {

// The child's pid in the prepared filter, replaced by getpid() in the child: a value no rule uses.
constexpr uint32_t kSelfPlaceholder = 0x7EC0FFEE;

Status add_rules(scmp_filter_ctx ctx, scmp_datum_t self) {
#if W64STUB_HAS_ASAN
  // Sanitizer builds (the asan preset, never a release): their runtimes make system calls of their own inside
  // interceptors and fault handlers (pipes, /proc/self/maps, limits), so the filter there traps what a hostile
  // stub would do instead of allowing what the harness needs.
  const Status denied[] = {
      trap(ctx, SCMP_SYS(fork)), trap(ctx, SCMP_SYS(vfork)), trap(ctx, SCMP_SYS(clone)), trap(ctx, SCMP_SYS(clone3)),
      trap(ctx, SCMP_SYS(execve)), trap(ctx, SCMP_SYS(execveat)), trap(ctx, SCMP_SYS(kill)), trap(ctx, SCMP_SYS(ptrace)),
      trap(ctx, SCMP_SYS(setsid)), trap(ctx, SCMP_SYS(setpgid)), trap(ctx, SCMP_SYS(pidfd_open)),
      trap(ctx, SCMP_SYS(pidfd_send_signal)), trap(ctx, SCMP_SYS(rt_sigqueueinfo)),
      trap(ctx, SCMP_SYS(tkill), {arg(0, SCMP_CMP_NE, self)}), trap(ctx, SCMP_SYS(tgkill), {arg(0, SCMP_CMP_NE, self)}),
      trap(ctx, SCMP_SYS(rt_tgsigqueueinfo), {arg(0, SCMP_CMP_NE, self)}),
      trap(ctx, SCMP_SYS(process_vm_writev), {arg(0, SCMP_CMP_NE, self)}),
      trap(ctx, SCMP_SYS(process_vm_readv), {arg(0, SCMP_CMP_NE, self)}),
      trap(ctx, SCMP_SYS(open)), trap(ctx, SCMP_SYS(creat)), trap(ctx, SCMP_SYS(unlink)), trap(ctx, SCMP_SYS(socket)),
      trap(ctx, SCMP_SYS(unlinkat)), trap(ctx, SCMP_SYS(rename)), trap(ctx, SCMP_SYS(renameat)), trap(ctx, SCMP_SYS(renameat2)),
      trap(ctx, SCMP_SYS(truncate)), trap(ctx, SCMP_SYS(mkdir)), trap(ctx, SCMP_SYS(mkdirat)), trap(ctx, SCMP_SYS(rmdir)),
      trap(ctx, SCMP_SYS(link)), trap(ctx, SCMP_SYS(linkat)), trap(ctx, SCMP_SYS(symlink)), trap(ctx, SCMP_SYS(symlinkat)),
      trap(ctx, SCMP_SYS(chmod)), trap(ctx, SCMP_SYS(fchmodat)), trap(ctx, SCMP_SYS(chown)), trap(ctx, SCMP_SYS(lchown)),
      trap(ctx, SCMP_SYS(fchownat)),
      trap(ctx, SCMP_SYS(openat), {arg(2, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY)}),
      trap(ctx, SCMP_SYS(openat), {arg(2, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDWR)}),
      trap(ctx, SCMP_SYS(openat), {arg(2, SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT)}),
      trap(ctx, SCMP_SYS(mmap), {arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)}),
      trap(ctx, SCMP_SYS(mprotect), {arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)}),
  };
  for (const Status& s : denied)
    if (!s) return s;
#else
  const Status rules[] = {
      rule(ctx, SCMP_SYS(write), {arg(0, SCMP_CMP_EQ, 1)}),
      rule(ctx, SCMP_SYS(write), {arg(0, SCMP_CMP_EQ, 2)}),
      rule(ctx, SCMP_SYS(process_vm_readv), {arg(0, SCMP_CMP_EQ, self)}),
      rule(ctx, SCMP_SYS(process_vm_writev), {arg(0, SCMP_CMP_EQ, self)}),
      rule(ctx, SCMP_SYS(getpid)),
      rule(ctx, SCMP_SYS(brk)),
      rule(ctx, SCMP_SYS(mmap), {arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}),
      rule(ctx, SCMP_SYS(mprotect), {arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}),
      rule(ctx, SCMP_SYS(munmap)),
      rule(ctx, SCMP_SYS(madvise)),
      rule(ctx, SCMP_SYS(rt_sigreturn)),
      rule(ctx, SCMP_SYS(exit)),
      rule(ctx, SCMP_SYS(exit_group)),
  };
  for (const Status& s : rules)
    if (!s) return s;
#endif
  return Ok{};
}

// The filter as BPF, compiled once per process: libseccomp's probing of the kernel and its code generation in
// every child cost about 0.2 ms a run.
struct PreparedFilter {
  std::vector<sock_filter> program;
  Status status = Ok{};
};

PreparedFilter compile_filter() {
  PreparedFilter out;
  scmp_filter_ctx ctx = seccomp_init(W64STUB_HAS_ASAN ? SCMP_ACT_ALLOW : SCMP_ACT_TRAP);
  if (!ctx) return {{}, Error{"seccomp_init failed"}};
  struct Release {
    scmp_filter_ctx ctx;
    ~Release() { seccomp_release(ctx); }
  } release{ctx};
  if (auto added = add_rules(ctx, kSelfPlaceholder); !added) return {{}, added};
  const int fd = memfd_create("w64stub-seccomp", MFD_CLOEXEC);
  if (fd < 0) return {{}, Error{fmt::format("memfd_create: {}", std::strerror(errno))}};
  if (const int rc = seccomp_export_bpf(ctx, fd); rc < 0) {
    close(fd);
    return {{}, Error{fmt::format("seccomp_export_bpf: {}", std::strerror(-rc))}};
  }
  const off_t size = lseek(fd, 0, SEEK_END);
  out.program.resize(static_cast<size_t>(std::max<off_t>(size, 0)) / sizeof(sock_filter));
  const size_t bytes = out.program.size() * sizeof(sock_filter);
  if (size <= 0 || pread(fd, out.program.data(), bytes, 0) != static_cast<ssize_t>(bytes))
    out.status = Error{"seccomp: the exported filter could not be read back"};
  close(fd);
  return out;
}

const PreparedFilter& prepared_filter() {
  static const PreparedFilter prepared = compile_filter();
  return prepared;
}

}  // namespace

Status prepare_sandbox() { return prepared_filter().status; }

Status enter_sandbox(std::chrono::milliseconds timeout) {
  if (auto limited = apply_limits(timeout); !limited) return limited;
  if (auto dropped = drop_capabilities(); !dropped) return dropped;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error{fmt::format("no_new_privs: {}", std::strerror(errno))};
  const PreparedFilter& prepared = prepared_filter();
  if (!prepared.status) return prepared.status;
  std::vector<sock_filter> program = prepared.program;
  const auto self = static_cast<uint32_t>(getpid());
  size_t patched = 0;
  for (sock_filter& insn : program)
    if (insn.code == (BPF_JMP | BPF_JEQ | BPF_K) && insn.k == kSelfPlaceholder) insn.k = self, ++patched;
  if (patched == 0) return Error{"seccomp: the compiled filter does not compare with the child's pid where it should"};
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) return Error{fmt::format("seccomp: {}", std::strerror(errno))};
  return Ok{};
}

std::string syscall_name(int number) {
  char* resolved = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, number);
  std::string name = resolved ? resolved : fmt::format("{}", number);
  free(resolved);
  return name;
}

bool end_process_group(pid_t group) {
  kill(-group, SIGKILL);
  // What is left of the group: zombies are reaped by their parent; count every /proc/PID whose pgid is ours.
  namespace fs = std::filesystem;
  std::error_code ec;
  for (int round = 0; round < 50; ++round) {
    if (kill(-group, 0) != 0 && errno == ESRCH) return true;  // no process has the group's id: nothing to scan
    bool left = false;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      const size_t close = line.rfind(')');  // "pid (comm) state ppid pgrp ..."
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      long ppid = 0, pgrp = 0;
      rest >> state >> ppid >> pgrp;
      if (pgrp == group && state != 'Z') left = true;
    }
    if (!left) return true;
    kill(-group, SIGKILL);
    usleep(2000);
  }
  return false;
}

// A mapping's line in /proc/self/maps starts "START-END PERMS ...": writable and executable when PERMS
// holds both w and x.
namespace {

bool writable_and_executable(std::string_view head) {
  const size_t space = head.find(' ');
  const std::string_view perms = space == std::string_view::npos ? std::string_view() : head.substr(space + 1, 4);
  return perms.find('w') != std::string_view::npos && perms.find('x') != std::string_view::npos;
}

}  // namespace

// Plain system calls and a buffer on the stack: an ifstream set up a locale and allocated in every probe's
// child, and the page faults that cost were a sixth of a probe.
int count_wx_mappings() {
  const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char chunk[4096], head[64];  // a line's start: its addresses and permissions fit in 64 bytes
  size_t head_size = 0;
  int count = 0;
  ssize_t n = 0;
  while ((n = read(fd, chunk, sizeof chunk)) > 0)
    for (ssize_t i = 0; i < n; ++i) {
      if (chunk[i] != '\n') {
        if (head_size < sizeof head) head[head_size++] = chunk[i];
        continue;
      }
      count += writable_and_executable({head, head_size});
      head_size = 0;
    }
  close(fd);
  return n < 0 ? -1 : count;
}

}  // namespace w64stub::harness
