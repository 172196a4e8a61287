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

// What this process sends for a run: the options and the stub's signature, then each image file's text, its
// size first (a uint64_t).
struct Request {
  uint32_t count = 0;  // images
  uint64_t signature_size = 0;
  int64_t timeout_ms = 0;
  int32_t entry_residue = 0;
  uint8_t capture = 0, at_image_addresses = 0, has_signature = 0;
};
constexpr uint32_t kMostImages = 1u << 20;  // a request for more is the sign of a broken stream

// What the run host answers for each image, in order: how its child ended, or why it could not run it. The
// image's outcome is in the shared page until this process acknowledges the reply (one byte).
struct Reply {
  uint32_t index = 0;
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

// In the run host: the options a request describes.
Expected<RunOptions> request_options(const Request& q, const std::string& signature_text, std::span<const StandIn> standins) {
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
  return options;
}

bool send_failure(int socket, uint32_t index, const Error& error) {
  Reply reply{.index = index, .failed = 1};
  std::snprintf(reply.error, sizeof reply.error, "%s", error.message.c_str());
  uint8_t ack = 0;
  return write_all(socket, &reply, sizeof reply) && read_all(socket, &ack, 1);
}

// In the run host: runs the images of a request, from here, and answers for each; false once this process is gone.
bool serve_request(int socket, const Request& q, const std::vector<std::string>& texts, const std::string& signature_text,
                   std::span<const StandIn> standins, Outcome* shared) {
  auto options = request_options(q, signature_text, standins);
  if (!options) {
    for (uint32_t i = 0; i < texts.size(); ++i)
      if (!send_failure(socket, i, options.error())) return false;
    return true;
  }
  std::vector<Image> images;
  std::vector<uint32_t> where;  // each parsed image's index in the request
  for (uint32_t i = 0; i < texts.size(); ++i) {
    imagefile::File file;
    std::string error;
    auto image = imagefile::parse(texts[i], "the run host's image", file, error) ? from_file(file)
                                                                                : Expected<Image>(Error{error});
    if (!image && !send_failure(socket, i, image.error())) return false;
    if (image) images.push_back(std::move(*image)), where.push_back(i);
  }
  std::vector<const Image*> runnable;
  for (const Image& image : images) runnable.push_back(&image);
  bool alive = true;
  execute_all(runnable, *options, [&](size_t k, const Outcome* out, Expected<Execution> done) {
    if (!alive) return;
    if (!done) {
      alive = send_failure(socket, where[k], done.error());
      return;
    }
    copy_outcome(*shared, *out);
    const Reply reply{.index = where[k], .done = *done};
    uint8_t ack = 0;
    alive = write_all(socket, &reply, sizeof reply) && read_all(socket, &ack, 1);
  });
  return alive;
}

// In the run host: the next request, whole; false once this process is gone.
bool read_request(int socket, Request& q, std::string& signature_text, std::vector<std::string>& texts) {
  if (!read_all(socket, &q, sizeof q) || q.count > kMostImages) return false;
  signature_text.resize(q.signature_size);
  if (!read_all(socket, signature_text.data(), signature_text.size())) return false;
  texts.resize(q.count);
  for (std::string& text : texts) {
    uint64_t size = 0;
    if (!read_all(socket, &size, sizeof size)) return false;
    text.resize(size);
    if (!read_all(socket, text.data(), size)) return false;
  }
  return true;
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
  Request q;
  std::string signature_text;
  std::vector<std::string> texts;
  while (read_request(socket, q, signature_text, texts) && serve_request(socket, q, texts, signature_text, standins, out)) {
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

Status RunHost::execute_all(std::span<const Image* const> images, const RunOptions& options, const EachExecution& each) {
  if (options.standins.data() != standins_.data() || options.standins.size() != standins_.size())
    return Error{"a RunHost answers imports only with the stand-ins it started with"};
  if (images.empty()) return Ok{};
  const std::string signature_text = options.signature ? win64::to_string(*options.signature) : "";
  const Request q{.count = static_cast<uint32_t>(images.size()),
                  .signature_size = signature_text.size(),
                  .timeout_ms = options.timeout.count(),
                  .entry_residue = options.entry_residue,
                  .capture = options.capture,
                  .at_image_addresses = options.at_image_addresses,
                  .has_signature = options.signature.has_value()};
  const Error gone{fmt::format("the run host (pid {}) is gone", pid_)};
  if (images.size() > kMostImages) return Error{fmt::format("a RunHost takes up to {} images at once", kMostImages)};
  if (!write_all(socket_, &q, sizeof q) || !write_all(socket_, signature_text.data(), signature_text.size())) return gone;
  for (const Image* image : images) {
    const std::string text = imagefile::write(to_file(*image));
    const uint64_t size = text.size();
    if (!write_all(socket_, &size, sizeof size) || !write_all(socket_, text.data(), text.size())) return gone;
  }
  for (size_t n = 0; n < images.size(); ++n) {
    Reply reply;
    if (!read_all(socket_, &reply, sizeof reply) || reply.index >= images.size()) return gone;
    each(reply.index, outcome_.get(),
         reply.failed ? Expected<Execution>(Error{std::string(reply.error, strnlen(reply.error, sizeof reply.error))})
                      : Expected<Execution>(reply.done));
    const uint8_t ack = 1;
    if (!write_all(socket_, &ack, 1)) return gone;
  }
  return Ok{};
}

}  // namespace w64stub
