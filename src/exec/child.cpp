// The child process of a native run: builds the callees, the instance and the caller, and calls the stub.
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "outcome_p.hpp"
#include "sandbox_p.hpp"
#include "trampolines_p.hpp"
#include "w64stub/exec/jit.hpp"

namespace w64stub::harness {

namespace {

Outcome* g_outcome = nullptr;
constexpr uint64_t kLowCallees = 0x1000'0000;  // 256 MiB  // for the signal handler, in the child only

// Ends the child at once: exit_group itself, not _exit, which sanitizer runtimes intercept to check for leaks
// (with system calls the sandbox denies).
[[noreturn]] void end_child(int status) {
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void on_signal(int signal, siginfo_t* info, void* context) {
  const auto& regs = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  g_outcome->signal = signal;
  g_outcome->code = signal == SIGSYS ? info->si_syscall : info->si_code;  // SIGSYS: the denied call's number
  g_outcome->fault_address = reinterpret_cast<uint64_t>(info->si_addr);
  g_outcome->fault_rip = static_cast<uint64_t>(regs[REG_RIP]);
  g_outcome->fault_rsp = static_cast<uint64_t>(regs[REG_RSP]);
  end_child(signal == kStopSignal ? kExitStopped : kExitFaulted);
}

// Reaches the stub's memory without faulting: false if any of it is unmapped.
bool read_remote(uint64_t address, void* to, size_t size) {
  iovec local{to, size}, remote{reinterpret_cast<void*>(address), size};
  return size == 0 || process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

constexpr uint64_t kPage = 4096;

// A page nothing can read or write at `address`, unless something is mapped there already. A stub's memory is
// bounded by such pages (relocated, instantiate's own), so that a read or write that runs off it (a stand-in
// told to read a buffer far too long, a wild pointer) ends as it would for the stub alone, not in another stub
// of its child.
void map_guard_page(uint64_t address) {
  void* want = reinterpret_cast<void*>(address);
  void* got = mmap(want, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (got != MAP_FAILED && got != want) munmap(got, kPage);  // before Linux 4.17 the flag is a hint
}

struct PageRange {
  uint64_t begin, end;
};

PageRange pages_of(uint64_t address, uint64_t size) {
  return {address & ~(kPage - 1), (address + size + kPage - 1) & ~(kPage - 1)};
}

// Whether `a` lies in `b` or in a page right beside it.
bool touches(const PageRange& a, const PageRange& b) { return a.begin < b.end + kPage && b.begin < a.end + kPage; }

bool write_all(int fd, const void* data, size_t size) {
  for (auto* p = static_cast<const char*>(data); size > 0;) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// One stub of the child: its callees, its instance and the caller that enters it, all mapped before the
// sandbox is entered (the sandbox allows no new executable memory).
class Child : public StandInContext {
 public:
  Child(const Image& image, const RunOptions& options, Outcome* out)
      : image_(image), options_(options), out_(out), imports_(import_slots(image, options.standins)) {}
  Child(const Child&) = delete;  // the callees hold its address
  Child& operator=(const Child&) = delete;

  Status prepare(CodePool& pool);
  Setup setup() const;
  std::vector<PageRange> sections() const;  // the pages the instance's text and data lie in
  void call() const { reinterpret_cast<void (*)()>(caller_)(); }

  void record(const std::array<uint64_t, 4>& regs, uint64_t entry_rsp, uint32_t index);
  uint64_t answer();

  bool read(uint64_t address, uint64_t size, std::string& copy) override;
  bool write(uint64_t address, std::span<const uint8_t> bytes) override;
  bool output(int stream, std::string_view bytes) override;

 private:
  const Image& image_;
  const RunOptions& options_;
  Outcome* out_;
  std::vector<ImportSlot> imports_;
  std::optional<Instance> instance_;
  uint64_t caller_ = 0;
  uint32_t pending_index_ = 0;  // the call being answered
  std::array<uint64_t, kMaxArgs> pending_args_{};
  CallSlot* pending_slot_ = nullptr;  // null when the call did not fit in the Outcome
  std::array<uint64_t, win64::kFloatArguments> xmm_args_{};  // the callee thunks store XMM0-XMM3 here
};

__attribute__((ms_abi)) void record_call(uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9, uint64_t entry_rsp,
                                         void* child, uint64_t index) {
  static_cast<Child*>(child)->record({rcx, rdx, r8, r9}, entry_rsp, static_cast<uint32_t>(index));
}

__attribute__((ms_abi)) uint64_t answer_call(void* child) { return static_cast<Child*>(child)->answer(); }

bool Child::read(uint64_t address, uint64_t size, std::string& copy) {
  char chunk[65536];
  copy.clear();
  while (size > 0) {
    const size_t n = std::min<uint64_t>(size, sizeof chunk);
    if (!read_remote(address, chunk, n)) return copy.clear(), false;
    copy.append(chunk, n);
    address += n;
    size -= n;
  }
  return true;
}

bool Child::write(uint64_t address, std::span<const uint8_t> bytes) {
  iovec local{const_cast<uint8_t*>(bytes.data()), bytes.size()}, remote{reinterpret_cast<void*>(address), bytes.size()};
  return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(bytes.size());
}

// Keeps what the stub writes (as much as fits); without capture it also goes to the real stream.
bool Child::output(int stream, std::string_view bytes) {
  if (stream != 1 && stream != 2) return false;
  uint32_t& size = out_->out_size[stream - 1];
  const std::string_view kept = bytes.substr(0, std::min<size_t>(kCaptureBytes - size, bytes.size()));
  if (CallSlot* slot = pending_slot_; slot && slot->stream < 0) {
    slot->stream = stream;
    slot->output_offset = size;
  }
  if (CallSlot* slot = pending_slot_; slot && slot->stream == stream) slot->output_size += static_cast<uint32_t>(kept.size());
  std::memcpy(out_->out[stream - 1] + size, kept.data(), kept.size());
  size += static_cast<uint32_t>(kept.size());
  return options_.capture || ::write(stream, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

void Child::record(const std::array<uint64_t, 4>& regs, uint64_t entry_rsp, uint32_t index) {
  uint64_t stack[5] = {};
  read_remote(entry_rsp, stack, 8);                                // the return address
  read_remote(entry_rsp + win64::entry_slot(4), stack + 1, 4 * 8);  // the 5th to 8th arguments
  pending_index_ = index;
  pending_args_ = {regs[0], regs[1], regs[2], regs[3], stack[1], stack[2], stack[3], stack[4]};
  pending_slot_ = nullptr;
  if (out_->call_count >= kMaxCalls) {
    out_->calls_truncated = 1;
    return;
  }
  CallSlot& slot = out_->calls[out_->call_count++];
  slot = CallSlot{};
  slot.import_index = index;
  slot.stream = -1;
  std::copy(regs.begin(), regs.end(), slot.args);
  std::copy(stack + 1, stack + 5, slot.stack_args);
  std::copy(xmm_args_.begin(), xmm_args_.end(), slot.xmm_args);
  std::fill(std::begin(slot.out_values), std::end(slot.out_values), -1);
  slot.entry_rsp = entry_rsp;
  slot.return_address = stack[0];
  pending_slot_ = &slot;
}

uint64_t Child::answer() {
  const StandIn* stand_in = pending_index_ < imports_.size() ? imports_[pending_index_].stand_in : nullptr;
  uint64_t result = 0;
  if (stand_in) {
    const auto count = std::min<size_t>(static_cast<size_t>(stand_in->signature.count()), kMaxArgs);
    for (size_t i = 0; i < std::min<size_t>(count, xmm_args_.size()); ++i)  // floating arguments come in XMM0-XMM3
      if (win64::is_float(stand_in->signature.params[i].type)) pending_args_[i] = xmm_args_[i];
    result = stand_in->behaviour(*this, std::span<const uint64_t>(pending_args_.data(), count));
  }
  if (CallSlot* slot = pending_slot_) {
    slot->result = result;
    slot->last_error = last_error;
    for (int i = 0; stand_in && i < std::min(stand_in->signature.count(), kMaxArgs); ++i) {
      uint32_t value = 0;
      if (stand_in->signature.params[static_cast<size_t>(i)].type == win64::ValueType::Out32 &&
          pending_args_[static_cast<size_t>(i)] != 0 && read_remote(pending_args_[static_cast<size_t>(i)], &value, 4))
        slot->out_values[i] = value;
    }
  }
  return result;
}

Status Child::prepare(CodePool& pool) {
  std::vector<Binding> bindings;
  for (uint32_t i = 0; i < imports_.size(); ++i) {
    // An external is reached by a rel32 from the text: near the image's own address, or low where a relocated
    // text with externals goes (instantiate: below 2 GiB, so any two such addresses are in reach).
    const bool direct = imports_[i].symbol->kind == SymbolKind::External;
    const uint64_t near = !direct ? 0 : options_.at_image_addresses ? image_.text.address : kLowCallees;
    auto callee = build_callee(pool, this, i, record_call, answer_call, xmm_args_.data(), near);
    if (!callee) return callee.error();
    bindings.push_back(Binding{imports_[i].symbol->name, reinterpret_cast<const void*>(*callee)});
  }
  auto instance = instantiate(image_, bindings, {.at_image_addresses = options_.at_image_addresses, .guarded = true});
  if (!instance) return instance.error();
  instance_ = std::move(*instance);
  out_->text_address = instance_->text_address();
  out_->data_address = instance_->data_address();
  out_->at_image_addresses = instance_->at_image_addresses();
  for (size_t i = 0; i < image_.symbols.size() && i < kMaxSymbols; ++i)
    out_->placed[i] = instance_->address_of(image_.symbols[i].name);
  auto caller = build_caller(pool, out_, instance_->text_address(), options_.entry_residue,
                             options_.signature ? &*options_.signature : nullptr);
  if (!caller) return caller.error();
  caller_ = *caller;
  return Ok{};
}

std::vector<PageRange> Child::sections() const {
  std::vector<PageRange> out{pages_of(instance_->text_address(), image_.text.bytes.size())};
  if (instance_->data_address()) out.push_back(pages_of(instance_->data_address(), image_.data.bytes.size()));
  return out;
}

Setup Child::setup() const {
  Setup setup{out_->text_address, out_->data_address, out_->marker_offset, out_->wx_mappings, out_->at_image_addresses, {}};
  std::copy(std::begin(out_->placed), std::end(out_->placed), setup.placed);
  return setup;
}

// Builds each stub in turn; stops before one that cannot be built, that an earlier one keeps from its own
// addresses, or whose pages lie in or beside an earlier one's (the parent runs it first in a child of its own,
// where it gets what a run of it alone gets).
std::vector<std::unique_ptr<Child>> prepare_all(std::span<const Image* const> images, const RunOptions& options,
                                                Outcome* outs, CodePool& pool) {
  std::vector<std::unique_ptr<Child>> stubs;
  std::vector<PageRange> taken;  // the pages of the stubs so far
  for (size_t k = 0; k < images.size(); ++k) {
    auto stub = std::make_unique<Child>(*images[k], options, &outs[k]);
    Status status = stub->prepare(pool);
    if (k == 0 && !status) {
      std::snprintf(outs[0].error, sizeof outs[0].error, "%s", status.error().message.c_str());
      end_child(kExitSetupFailed);
    }
    if (!status || (k > 0 && options.at_image_addresses && !outs[k].at_image_addresses)) break;
    const std::vector<PageRange> sections = stub->sections();
    const auto beside_another = [&](const PageRange& mine) {
      return std::any_of(taken.begin(), taken.end(), [&](const PageRange& theirs) { return touches(mine, theirs); });
    };
    if (std::any_of(sections.begin(), sections.end(), beside_another)) break;
    for (const PageRange& section : sections) {
      if (outs[k].at_image_addresses && section.begin >= kPage) map_guard_page(section.begin - kPage);
      if (outs[k].at_image_addresses) map_guard_page(section.end);  // relocated, instantiate put guards there
      taken.push_back(section);
    }
    stubs.push_back(std::move(stub));
  }
  return stubs;
}

// Sends the count of stubs, then each one's Setup, and closes the pipe: the stubs cannot reach it.
Status send_setups(int fd, std::span<const std::unique_ptr<Child>> stubs) {
  std::vector<Setup> setups;
  for (const auto& stub : stubs) setups.push_back(stub->setup());
  const uint32_t count = static_cast<uint32_t>(setups.size());
  const bool sent = write_all(fd, &count, sizeof count) && write_all(fd, setups.data(), setups.size() * sizeof(Setup));
  const int error = errno;
  close(fd);
  if (!sent) return Error{std::string("the setup pipe: ") + std::strerror(error)};
  return Ok{};
}

// What an earlier stub of this child left below the stack pointer (its callees' poisons among it) is gone
// before the next is called: a stub that reads stack it never wrote finds the harness's values or zeros, as
// alone, not another stub's.
__attribute__((noinline)) void scrub_stack() {
  char below[16384];
  explicit_bzero(below, sizeof below);
}

}  // namespace

void child_main(std::span<const Image* const> images, const RunOptions& options, Outcome* outs, int setup_fd) {
  setup_fd = isolate_process(setup_fd);
  g_outcome = &outs[0];
  static char alternate_stack[1 << 16];
  stack_t ss{};
  ss.ss_sp = alternate_stack;
  ss.ss_size = sizeof alternate_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction action {};
  action.sa_sigaction = on_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS, kStopSignal}) sigaction(signal, &action, nullptr);

  CodePool pool;  // the stubs' callees and callers
  const auto stubs = prepare_all(images, options, outs, pool);
  Status status = pool.seal();
  const int wx_mappings = count_wx_mappings();
  for (size_t k = 0; k < stubs.size(); ++k) outs[k].wx_mappings = wx_mappings;
  if (status) status = send_setups(setup_fd, stubs);
  if (status) status = enter_sandbox(options.timeout * static_cast<int64_t>(stubs.size()));
  if (!status) {
    std::snprintf(outs[0].error, sizeof outs[0].error, "%s", status.error().message.c_str());
    end_child(kExitSetupFailed);
  }
  for (size_t k = 0; k < stubs.size(); ++k) {
    g_outcome = &outs[k];
    if (k > 0) scrub_stack();
    stubs[k]->call();
  }
  end_child(0);
}

}  // namespace w64stub::harness
