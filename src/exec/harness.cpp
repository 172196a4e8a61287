#include "w64stub/exec/harness.hpp"

#include <asmjit/x86.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "w64stub/exec/jit.hpp"

namespace w64stub {
namespace x86 = asmjit::x86;

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

Nonvolatiles canaries() {
  Nonvolatiles c;
  for (size_t i = 0; i < c.gp.size(); ++i) c.gp[i] = 0xC0DE'0000'0000'0000 + 0x100 * (i + 1);
  for (size_t j = 0; j < c.xmm.size(); ++j) {
    const uint64_t reg = kFirstNonvolatileXmm + j;
    c.xmm[j] = {0xC0DE'0001'0000'0000 + 0x100 * reg, 0xC0DE'0002'0000'0000 + 0x100 * reg};
  }
  c.mxcsr = 0x1F80;  // the Windows default: all exceptions masked, round to nearest
  return c;
}

uint64_t marker_word(int index) { return 0xCA11'E4F0'0000'0000 + static_cast<uint64_t>(index); }

uint64_t RunReport::address_of(std::string_view symbol) const {
  for (const auto& [name, address] : placed)
    if (name == symbol) return address;
  return 0;
}

namespace {

constexpr size_t kMaxCalls = 256;
constexpr size_t kMaxSymbols = 64;
constexpr size_t kCaptureBytes = 16384;
constexpr int kExitSetupFailed = 70, kExitFaulted = 71, kExitStopped = 72;
constexpr int kStopSignal = SIGUSR1;  // the parent's "time is up": the child reports where it was

// What the child leaves for the parent, in memory they share. Plain data: written by asmjit code through
// offsetof, by the child's C++ and by its signal handler.
struct CallSlot {
  uint32_t import_index;
  int32_t fd;
  uint64_t args[4], stack_args[4];
  uint64_t entry_rsp, return_address, result;
  uint32_t last_error, written_offset, written_size;
};

struct Outcome {
  char error[512];
  uint64_t text_address, data_address;
  uint8_t at_image_addresses, returned, calls_truncated;
  int32_t wx_mappings;
  uint64_t host_rsp, rsp_before_call, rsp_after_return, rflags_after;
  uint64_t gp_after[kNonvolatileGps.size()];
  uint64_t xmm_after[kNonvolatileXmms][2];
  uint32_t mxcsr_host, mxcsr_after;
  uint64_t caller_frame[kMarkerWords];
  int32_t signal, code;
  uint64_t fault_address, fault_rip, fault_rsp;
  uint32_t call_count;
  CallSlot calls[kMaxCalls];
  uint64_t placed[kMaxSymbols];
  uint32_t out_size[2];
  char out[2][kCaptureBytes];
};
static_assert(std::is_standard_layout_v<Outcome>);

// A field of the Outcome at `base`, for the asmjit code that fills it.
x86::Mem at(const x86::Gp& base, size_t offset, uint32_t size = 8) {
  return x86::ptr(base, static_cast<int32_t>(offset), size);
}

const x86::Gp kGps[] = {x86::rbx, x86::rbp, x86::rdi, x86::rsi, x86::r12, x86::r13, x86::r14, x86::r15};
static_assert(std::size(kGps) == kNonvolatileGps.size());

struct ImportSlot {
  const Symbol* symbol;
  std::optional<StandIn> stand_in;
};

std::vector<ImportSlot> import_slots(const Image& image) {
  std::vector<ImportSlot> slots;
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Import) slots.push_back({&s, find_standin(s.function)});
  return slots;
}

Outcome* g_outcome = nullptr;  // for the signal handler, in the child only

void on_signal(int signal, siginfo_t* info, void* context) {
  const auto& regs = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  g_outcome->signal = signal;
  g_outcome->code = info->si_code;
  g_outcome->fault_address = reinterpret_cast<uint64_t>(info->si_addr);
  g_outcome->fault_rip = static_cast<uint64_t>(regs[REG_RIP]);
  g_outcome->fault_rsp = static_cast<uint64_t>(regs[REG_RSP]);
  _exit(signal == kStopSignal ? kExitStopped : kExitFaulted);
}

// The process a stub runs in: builds the callees, the instance and the caller, and calls.
class Child {
 public:
  Child(const Image& image, const RunOptions& options, Outcome* out)
      : image_(image), options_(options), out_(out), imports_(import_slots(image)),
        stand_ins_([this](int fd, std::string_view bytes) { return write(fd, bytes); }) {}

  Status run();
  void record(const std::array<uint64_t, 4>& regs, uint64_t entry_rsp, uint32_t index);
  uint64_t answer();

 private:
  bool write(int fd, std::string_view bytes);
  Expected<Mapping> build_callee(uint32_t index);
  Expected<Mapping> build_caller(uint64_t stub);

  const Image& image_;
  const RunOptions& options_;
  Outcome* out_;
  std::vector<ImportSlot> imports_;
  StandIns stand_ins_;
  uint32_t pending_index_ = 0;           // the call being answered
  std::array<uint64_t, 5> pending_args_{};
  CallSlot* pending_slot_ = nullptr;     // null when the call did not fit in the Outcome
};

// Win64 callees are ms_abi: GCC saves RSI, RDI and XMM6-15 here before calling SysV code.
__attribute__((ms_abi)) void record_call(uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9, uint64_t entry_rsp,
                                         Child* child, uint64_t index) {
  child->record({rcx, rdx, r8, r9}, entry_rsp, static_cast<uint32_t>(index));
}

__attribute__((ms_abi)) uint64_t answer_call(Child* child) { return child->answer(); }

// Reads memory the stub's stack may or may not have, without faulting: false if any of it is unmapped.
bool read_words(uint64_t address, uint64_t* words, size_t count) {
  iovec local{words, 8 * count}, remote{reinterpret_cast<void*>(address), 8 * count};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(8 * count);
}

void Child::record(const std::array<uint64_t, 4>& regs, uint64_t entry_rsp, uint32_t index) {
  uint64_t stack[5] = {};
  read_words(entry_rsp, stack, 1);           // the return address
  read_words(entry_rsp + 40, stack + 1, 4);  // the 5th to 8th arguments
  pending_index_ = index;
  pending_args_ = {regs[0], regs[1], regs[2], regs[3], stack[1]};
  pending_slot_ = nullptr;
  if (out_->call_count == kMaxCalls) {
    out_->calls_truncated = 1;
    return;
  }
  CallSlot& slot = out_->calls[out_->call_count++];
  slot.import_index = index;
  slot.fd = -1;
  std::copy(regs.begin(), regs.end(), slot.args);
  std::copy(stack + 1, stack + 5, slot.stack_args);
  slot.entry_rsp = entry_rsp;
  slot.return_address = stack[0];
  pending_slot_ = &slot;
}

uint64_t Child::answer() {
  const ImportSlot& import = imports_.at(pending_index_);
  StandIns::Result result;
  if (import.stand_in) result = stand_ins_.call(*import.stand_in, pending_args_);
  if (CallSlot* slot = pending_slot_) {
    slot->result = result.value;
    slot->last_error = stand_ins_.last_error();
    slot->fd = result.fd;
    if (result.fd == 1 || result.fd == 2) {
      slot->written_offset = out_->out_size[result.fd - 1] - static_cast<uint32_t>(result.written.size());
      slot->written_size = static_cast<uint32_t>(result.written.size());
    }
  }
  return result.value;
}

// Keeps what WriteFile writes (as much as fits); without capture it also goes to the real fd.
bool Child::write(int fd, std::string_view bytes) {
  if (fd != 1 && fd != 2) return false;
  uint32_t& size = out_->out_size[fd - 1];
  const size_t room = kCaptureBytes - size;
  bytes = bytes.substr(0, std::min(room, bytes.size()));
  std::memcpy(out_->out[fd - 1] + size, bytes.data(), bytes.size());
  size += static_cast<uint32_t>(bytes.size());
  return options_.capture || ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

// A hostile but legal Win64 callee: records, wrecks its home area, answers, clobbers the volatiles.
Expected<Mapping> Child::build_callee(uint32_t index) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  asmjit::Label xmm_poison = a.newLabel();
  a.push(x86::rbp);
  a.mov(x86::rbp, x86::rsp);  // rbp = entry RSP - 8: [rbp+8] return address, [rbp+16, rbp+48) home area
  a.and_(x86::rsp, -16);      // realign: a misaligned caller is recorded, not crashed
  a.sub(x86::rsp, 64);
  a.lea(x86::rax, x86::qword_ptr(x86::rbp, 8));
  a.mov(x86::qword_ptr(x86::rsp, 32), x86::rax);
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(this)));
  a.mov(x86::qword_ptr(x86::rsp, 40), x86::rax);
  a.mov(x86::qword_ptr(x86::rsp, 48), asmjit::Imm(index));
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(&record_call)));
  a.call(x86::rax);
  for (int offset = 0; offset < kShadowSpace; offset += 8) {
    a.mov(x86::rax, asmjit::Imm(kHomeAreaPoison + static_cast<uint64_t>(offset)));
    a.mov(x86::qword_ptr(x86::rbp, 16 + offset), x86::rax);
  }
  a.mov(x86::rcx, asmjit::Imm(reinterpret_cast<uint64_t>(this)));
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(&answer_call)));
  a.call(x86::rax);
  const std::pair<x86::Gp, int> volatiles[] = {{x86::rcx, 1}, {x86::rdx, 2}, {x86::r8, 8},
                                               {x86::r9, 9},  {x86::r10, 10}, {x86::r11, 11}};
  for (const auto& [reg, number] : volatiles) a.mov(reg, asmjit::Imm(kVolatilePoison + static_cast<uint64_t>(number)));
  for (uint32_t i = 0; i < 6; ++i) a.movups(x86::xmm(i), x86::ptr(xmm_poison, static_cast<int32_t>(16 * i)));
  a.mov(x86::rsp, x86::rbp);
  a.pop(x86::rbp);
  a.ret();
  a.align(asmjit::AlignMode::kData, 16);
  a.bind(xmm_poison);
  for (uint64_t i = 0; i < 6; ++i) a.embedUInt64(kXmmPoison + i, 2);
  return load_code(code);
}

// SysV-callable: sets the entry condition, the canaries and the marker, calls the stub, records everything.
Expected<Mapping> Child::build_caller(uint64_t stub) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  asmjit::Label pool = a.newLabel();
  const Nonvolatiles canary = canaries();
  const x86::Gp sysv_saved[] = {x86::rbp, x86::rbx, x86::r12, x86::r13, x86::r14, x86::r15};
  const x86::Gp out = x86::r11;
  for (const x86::Gp& r : sysv_saved) a.push(r);
  a.mov(out, asmjit::Imm(reinterpret_cast<uint64_t>(out_)));
  a.mov(at(out, offsetof(Outcome, host_rsp)), x86::rsp);
  a.stmxcsr(at(out, offsetof(Outcome, mxcsr_host), 4));
  a.and_(x86::rsp, -16);
  // [RSP, RSP+32): the stub's own home area; [RSP+32, RSP+64): the marker in the caller's frame. CALL pushes
  // 8, so the stub enters at 8 (mod 16) unless we step down 8 more.
  const int step = (16 + kWin64EntryResidue - options_.entry_residue % 16) % 16;
  a.sub(x86::rsp, 64 + step);
  for (int i = 0; i < kMarkerWords; ++i) {
    a.mov(x86::rax, asmjit::Imm(marker_word(i)));
    a.mov(x86::qword_ptr(x86::rsp, 32 + 8 * i), x86::rax);
  }
  for (size_t i = 0; i < std::size(kGps); ++i) a.mov(kGps[i], asmjit::Imm(canary.gp[i]));
  for (uint32_t j = 0; j < kNonvolatileXmms; ++j)
    a.movups(x86::xmm(kFirstNonvolatileXmm + j), x86::ptr(pool, static_cast<int32_t>(16 * j)));
  a.ldmxcsr(x86::dword_ptr(pool, 16 * kNonvolatileXmms));
  a.mov(at(out, offsetof(Outcome, rsp_before_call)), x86::rsp);
  a.cld();
  a.mov(x86::rax, asmjit::Imm(stub));
  a.call(x86::rax);

  // Back from the stub: only RAX and R11 (volatile) are touched until everything is recorded.
  a.mov(out, asmjit::Imm(reinterpret_cast<uint64_t>(out_)));
  a.mov(at(out, offsetof(Outcome, rsp_after_return)), x86::rsp);
  for (size_t i = 0; i < std::size(kGps); ++i) a.mov(at(out, offsetof(Outcome, gp_after) + 8 * i), kGps[i]);
  for (uint32_t j = 0; j < kNonvolatileXmms; ++j)
    a.movups(at(out, offsetof(Outcome, xmm_after) + 16 * j, 16), x86::xmm(kFirstNonvolatileXmm + j));
  a.stmxcsr(at(out, offsetof(Outcome, mxcsr_after), 4));
  a.mov(x86::rax, at(out, offsetof(Outcome, rsp_before_call)));
  for (int i = 0; i < kMarkerWords; ++i) {
    a.mov(x86::rcx, x86::qword_ptr(x86::rax, 32 + 8 * i));
    a.mov(at(out, offsetof(Outcome, caller_frame) + 8 * static_cast<size_t>(i)), x86::rcx);
  }
  a.mov(x86::rsp, at(out, offsetof(Outcome, host_rsp)));  // whatever the stub did to RSP
  a.pushfq();
  a.pop(x86::rax);
  a.mov(at(out, offsetof(Outcome, rflags_after)), x86::rax);
  a.mov(at(out, offsetof(Outcome, returned), 1), 1);
  a.cld();
  a.ldmxcsr(at(out, offsetof(Outcome, mxcsr_host), 4));
  for (auto it = std::rbegin(sysv_saved); it != std::rend(sysv_saved); ++it) a.pop(*it);
  a.ret();
  a.align(asmjit::AlignMode::kData, 16);
  a.bind(pool);
  for (const Xmm& x : canary.xmm) a.embedUInt64(x[0]), a.embedUInt64(x[1]);
  a.embedUInt32(canary.mxcsr);
  return load_code(code);
}

int count_wx_mappings() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int count = 0;
  while (std::getline(maps, line)) {
    auto perms = line.substr(line.find(' ') + 1, 4);
    count += perms.find('w') != std::string::npos && perms.find('x') != std::string::npos;
  }
  return count;
}

Status Child::run() {
  std::vector<Mapping> callees;
  std::vector<Binding> bindings;
  for (uint32_t i = 0; i < imports_.size(); ++i) {
    auto callee = build_callee(i);
    if (!callee) return callee.error();
    bindings.push_back(Binding{imports_[i].symbol->name, callee->data()});
    callees.push_back(std::move(*callee));
  }
  auto instance = instantiate(image_, bindings, {options_.at_image_addresses});
  if (!instance) return instance.error();
  out_->text_address = instance->text_address();
  out_->data_address = instance->data_address();
  out_->at_image_addresses = instance->at_image_addresses();
  for (size_t i = 0; i < image_.symbols.size() && i < kMaxSymbols; ++i)
    out_->placed[i] = instance->address_of(image_.symbols[i].name);
  auto caller = build_caller(instance->text_address());
  if (!caller) return caller.error();
  out_->wx_mappings = count_wx_mappings();
  reinterpret_cast<void (*)()>(caller->data())();
  return Ok{};
}

[[noreturn]] void child_main(const Image& image, const RunOptions& options, Outcome* out) {
  g_outcome = out;
  static char alternate_stack[1 << 16];
  stack_t ss{};
  ss.ss_sp = alternate_stack;
  ss.ss_size = sizeof alternate_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction action {};
  action.sa_sigaction = on_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, kStopSignal}) sigaction(signal, &action, nullptr);

  Child child(image, options, out);
  Status status = child.run();
  if (!status) {
    std::snprintf(out->error, sizeof out->error, "%s", status.error().message.c_str());
    _exit(kExitSetupFailed);
  }
  _exit(0);
}

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
        kill(pid, SIGKILL);
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

RunReport collect(const Image& image, const RunOptions& options, const Outcome& out) {
  RunReport r;
  r.text_address = out.text_address;
  r.data_address = out.data_address;
  r.at_image_addresses = out.at_image_addresses;
  r.entry_residue = options.entry_residue;
  r.wx_mappings = out.wx_mappings;
  r.stub_entry_rsp = out.rsp_before_call - 8;
  r.rsp_after_return = out.rsp_after_return;
  std::copy(std::begin(out.gp_after), std::end(out.gp_after), r.after.gp.begin());
  for (int j = 0; j < kNonvolatileXmms; ++j) r.after.xmm[j] = {out.xmm_after[j][0], out.xmm_after[j][1]};
  r.after.mxcsr = out.mxcsr_after;
  r.rflags_after = out.rflags_after;
  std::copy(std::begin(out.caller_frame), std::end(out.caller_frame), r.caller_frame.begin());
  r.captured_stdout.assign(out.out[0], out.out_size[0]);
  r.captured_stderr.assign(out.out[1], out.out_size[1]);
  for (size_t i = 0; i < image.symbols.size() && i < kMaxSymbols; ++i)
    r.placed.emplace_back(image.symbols[i].name, out.placed[i]);

  auto text_offset = [&](uint64_t address) -> int64_t {
    return address >= out.text_address && address < out.text_address + image.code_size
               ? static_cast<int64_t>(address - out.text_address) : -1;
  };
  const std::vector<ImportSlot> imports = import_slots(image);
  for (uint32_t i = 0; i < out.call_count; ++i) {
    const CallSlot& s = out.calls[i];
    const ImportSlot& import = imports.at(s.import_index);
    CallRecord c;
    c.function = import.stand_in ? import.symbol->function : import.symbol->name;
    c.dll = import.symbol->dll;
    c.stand_in = import.stand_in.has_value();
    c.argument_count = import.stand_in ? argument_count(*import.stand_in) : 4;
    std::copy(std::begin(s.args), std::end(s.args), c.args.begin());
    std::copy(std::begin(s.stack_args), std::end(s.stack_args), c.stack_args.begin());
    c.entry_rsp = s.entry_rsp;
    c.return_address = s.return_address;
    c.call_residue = static_cast<int>((s.entry_rsp + 8) % 16);
    if (int64_t back = text_offset(s.return_address - 1); back >= 0)
      if (const InstrInfo* call = image.instr_ending_at(static_cast<uint32_t>(back + 1))) c.call_offset = call->offset;
    c.result = s.result;
    c.last_error = s.last_error;
    c.fd = s.fd;
    if (s.fd == 1 || s.fd == 2) c.written.assign(out.out[s.fd - 1] + s.written_offset, s.written_size);
    if (c.function == "WriteFile") c.written_count = static_cast<int64_t>(c.written.size());
    r.calls.push_back(std::move(c));
  }
  r.calls_truncated = out.calls_truncated;
  r.fault = Fault{out.signal, out.code, out.fault_address, out.fault_rip, out.fault_rsp, text_offset(out.fault_rip)};
  return r;
}

}  // namespace

Expected<RunReport> run_native(const Image& image, const RunOptions& options) {
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

  bool stopped = false;
  auto status = wait_for(pid, options.timeout, *out, &stopped);
  if (!status) return status.error();
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == kExitSetupFailed)
    return Error{fmt::format("{}: {}", image.stub, std::string(out->error, strnlen(out->error, sizeof out->error)))};

  RunReport report = collect(image, options, *out);
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0 && out->returned) report.ending = Ending::Returned;
  else if (WIFEXITED(*status) && WEXITSTATUS(*status) == kExitFaulted) report.ending = Ending::Faulted;
  else if (WIFEXITED(*status) && WEXITSTATUS(*status) == kExitStopped) report.ending = Ending::TimedOut;
  else if (stopped) report.ending = Ending::TimedOut;  // did not even answer the stop signal
  else {
    report.ending = Ending::Died;
    report.fault.signal = WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
    report.fault.code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 0;
  }
  return report;
}

}  // namespace w64stub
