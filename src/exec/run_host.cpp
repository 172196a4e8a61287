#include "w64stub/exec/run_host.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "outcome_p.hpp"
#include "sandbox_p.hpp"
#include "w64stub/core/imagefile.hpp"

namespace w64stub {

using namespace harness;

namespace {

// What this process sends for a run: the options, then the image file's text and the stub's signature.
struct Request {
  uint64_t image_size = 0, signature_size = 0;
  int64_t timeout_ms = 0;
  int32_t entry_residue = 0;
  uint8_t capture = 0, at_image_addresses = 0, has_signature = 0;
};

// What the run host answers: how the child ended, or why it could not run it.
struct Reply {
  Execution done;
  uint8_t failed = 0;
  char error[512] = {};
};

bool write_all(int fd, const void* data, size_t size) {
  for (auto* p = static_cast<const char*>(data); size > 0;) {
    const ssize_t n = send(fd, p, size, MSG_NOSIGNAL);  // a run host that is gone is an error, not SIGPIPE
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t size) {
  for (auto* p = static_cast<char*>(data); size > 0;) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// In the run host: the Image and options a request describes, run from here.
Expected<Execution> run_request(const Request& q, const std::string& image_text, const std::string& signature_text,
                                std::span<const StandIn> standins, Outcome* out) {
  imagefile::File file;
  std::string error;
  if (!imagefile::parse(image_text, "the run host's image", file, error)) return Error{error};
  auto image = from_file(file);
  if (!image) return image.error();
  RunOptions options{.capture = q.capture != 0,
                     .entry_residue = q.entry_residue,
                     .at_image_addresses = q.at_image_addresses != 0,
                     .timeout = std::chrono::milliseconds(q.timeout_ms),
                     .standins = standins};
  if (q.has_signature) {
    auto signature = win64::parse_signature(signature_text);
    if (!signature) return signature.error();
    options.signature = std::move(*signature);
  }
  std::memset(static_cast<void*>(out), 0, sizeof *out);
  return execute(*image, options, out);
}

// The run host's life: a request at a time until this process closes its end. It ends with exit_group, as a
// run's child does, so that nothing of this process's exit (atexit, sanitizer checks) runs twice.
[[noreturn]] void serve(int socket, std::span<const StandIn> standins, Outcome* out, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) syscall(SYS_exit_group, 0);  // it ended before the line above
  // Children to wait for, whatever this process did with SIGCHLD (ignored, children reap themselves) or its mask.
  signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Only the socket beyond stdin, stdout and stderr: a pipe this process holds must not stay open in here.
  if (socket != 3) socket = dup2(socket, 3);
  close_range(4, UINT_MAX, 0);
  const uint8_t ready = 1;
  if (!write_all(socket, &ready, 1)) syscall(SYS_exit_group, 0);
  std::string image_text, signature_text;
  for (Request q; read_all(socket, &q, sizeof q);) {
    image_text.resize(q.image_size);
    signature_text.resize(q.signature_size);
    if (!read_all(socket, image_text.data(), image_text.size()) ||
        !read_all(socket, signature_text.data(), signature_text.size()))
      break;
    Reply reply;
    if (auto done = run_request(q, image_text, signature_text, standins, out)) {
      reply.done = *done;
    } else {
      reply.failed = 1;
      std::snprintf(reply.error, sizeof reply.error, "%s", done.error().message.c_str());
    }
    if (!write_all(socket, &reply, sizeof reply)) break;
  }
  syscall(SYS_exit_group, 0);
  __builtin_unreachable();
}

}  // namespace

Expected<std::unique_ptr<RunHost>> RunHost::start(std::span<const StandIn> standins) {
  if (auto prepared = prepare_sandbox(); !prepared) return prepared.error();  // the run host inherits it
  auto out = map_outcome();
  if (!out) return out.error();
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
    return Error{fmt::format("socketpair: {}", std::strerror(errno))};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    close(sockets[0]);
    serve(sockets[1], standins, out->get(), parent);
  }
  close(sockets[1]);
  if (pid < 0) {
    close(sockets[0]);
    return Error{fmt::format("fork: {}", std::strerror(errno))};
  }
  std::unique_ptr<RunHost> host(new RunHost(pid, sockets[0], std::move(*out), standins));
  uint8_t ready = 0;  // once it holds none of this process's files but the standard three
  if (!read_all(sockets[0], &ready, 1)) return Error{fmt::format("the run host (pid {}) did not start", pid)};
  return host;
}

RunHost::~RunHost() {
  close(socket_);
  kill(pid_, SIGKILL);  // between runs it has no child of its own to leave behind
  waitpid(pid_, nullptr, 0);
}

Expected<Execution> RunHost::execute(const Image& image, const RunOptions& options) {
  if (options.standins.data() != standins_.data() || options.standins.size() != standins_.size())
    return Error{fmt::format("{}: a RunHost answers imports only with the stand-ins it started with", image.stub)};
  const std::string image_text = imagefile::write(to_file(image));
  const std::string signature_text = options.signature ? win64::to_string(*options.signature) : "";
  const Request q{.image_size = image_text.size(),
                  .signature_size = signature_text.size(),
                  .timeout_ms = options.timeout.count(),
                  .entry_residue = options.entry_residue,
                  .capture = options.capture,
                  .at_image_addresses = options.at_image_addresses,
                  .has_signature = options.signature.has_value()};
  Reply reply;
  if (!write_all(socket_, &q, sizeof q) || !write_all(socket_, image_text.data(), image_text.size()) ||
      !write_all(socket_, signature_text.data(), signature_text.size()) || !read_all(socket_, &reply, sizeof reply))
    return Error{fmt::format("{}: the run host (pid {}) is gone", image.stub, pid_)};
  if (reply.failed) return Error{std::string(reply.error, strnlen(reply.error, sizeof reply.error))};
  return reply.done;
}

}  // namespace w64stub
