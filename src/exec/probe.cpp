#include "w64stub/exec/probe.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "sandbox_p.hpp"
#include "w64stub/core/disasm.hpp"

namespace w64stub {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", signal);
}

// What a leftover value is, if it is one of the hostile callees' poisons.
std::optional<std::string> poison_origin(uint64_t value) {
  for (const win64::GpRegister& r : win64::kVolatileGps)
    if (r.id != asmjit::x86::Gp::kIdAx && value == kVolatilePoison + r.id)
      return fmt::format("the value a previous callee left in {}: the stub kept something in a volatile register "
                         "across a CALL", upper(r.name));
  for (uint64_t offset = 0; offset < static_cast<uint64_t>(win64::kHomeArea); offset += win64::kSlot)
    if (value == kHomeAreaPoison + offset)
      return fmt::format("what a previous callee wrote to [RSP+{}] of its home area: the stub kept something in "
                         "the home area it gave that callee", 8 + offset);
  return std::nullopt;
}

class Checker {
 public:
  Checker(const Image& image, RunReport run, std::span<const Diagnosis> diagnoses, std::span<const StandIn> standins)
      : image_(image), diagnoses_(diagnoses), standins_(standins) {
    report_.run = std::move(run);
  }
  ProbeReport check();

 private:
  void check_call(const CallRecord& call, CallCheck& check);
  void check_stub();
  void check_ending();    // how the run ended: returned, faulted, timed out, died
  void check_returned();  // what the caller finds after the return: registers, MXCSR, RSP, DF, its frame
  void check_gps();  // the nonvolatile GPs came back as the caller gave them
  void check_df();
  void violate(std::string rule, std::string message, int64_t offset = -1);
  int64_t last_writer(std::string_view reg) const;
  int64_t last_df_writer() const;
  int64_t last_ret() const;
  std::optional<Decoded> decode_at(int64_t offset) const;

  void call_findings(const CallRecord& call, std::vector<Finding>& out) const;

  const Image& image_;
  std::span<const Diagnosis> diagnoses_;
  std::span<const StandIn> standins_;
  ProbeReport report_;
};

std::optional<Decoded> Checker::decode_at(int64_t offset) const {
  if (offset < 0 || static_cast<uint64_t>(offset) >= image_.text.bytes.size()) return std::nullopt;
  auto d = decode_one({image_.text.bytes.data() + offset, image_.text.bytes.size() - static_cast<size_t>(offset)},
                      image_.text.address + static_cast<uint64_t>(offset));
  if (!d) return std::nullopt;
  return *d;
}

void Checker::violate(std::string rule, std::string message, int64_t offset) {
  Violation v{std::move(rule), std::move(message), offset, {}, {}, {}};
  if (offset >= 0) {
    // The instruction that contains the offset (a fault may point into one).
    for (const InstrInfo& i : image_.instrs) {
      if (static_cast<uint64_t>(offset) < i.offset || static_cast<uint64_t>(offset) >= i.offset + i.length) continue;
      v.offset = i.offset;
      v.loc = i.loc;
      std::string_view text = image_.source_line(i);
      while (!text.empty() && (text.front() == '\t' || text.front() == ' ')) text.remove_prefix(1);
      v.source = std::string(text);
      std::replace(v.source.begin(), v.source.end(), '\t', ' ');
    }
    if (auto d = decode_at(v.offset)) v.instruction = d->text;
  }
  report_.violations.push_back(std::move(v));
}

// The last instruction, in text order, that may write `reg`; -1 when none does.
int64_t Checker::last_writer(std::string_view reg) const {
  int64_t found = -1;
  for (const InstrInfo& i : image_.instrs)
    if (auto d = decode_at(i.offset); d && std::find(d->writes.begin(), d->writes.end(), reg) != d->writes.end())
      found = i.offset;
  return found;
}

int64_t Checker::last_df_writer() const {
  int64_t found = -1;
  for (const InstrInfo& i : image_.instrs)
    if (auto d = decode_at(i.offset); d && d->writes_df) found = i.offset;
  return found;
}

int64_t Checker::last_ret() const {
  int64_t found = -1;
  for (const InstrInfo& i : image_.instrs)
    if (auto d = decode_at(i.offset); d && d->text.starts_with("ret")) found = i.offset;
  return found;
}

void Checker::check_call(const CallRecord& call, CallCheck& check) {
  const RunReport& run = report_.run;
  const std::string site = call.call_offset >= 0 ? fmt::format("the CALL to {}", call.function)
                                                 : fmt::format("the call to {} (from outside the stub)", call.function);
  check.aligned = call.call_residue == 0;
  if (!check.aligned)
    violate("call-alignment", fmt::format("RSP = {} (mod 16) at {}; Win64 wants 0", call.call_residue, site),
            call.call_offset);

  // A tail call (JMP to the import) hands the callee the stub's own home area: legal.
  const bool tail_call = call.entry_rsp == run.stub_entry_rsp;
  const bool frame_known = run.host == Host::Native;  // Wine runs do not see where the stub's frame ends
  const uint64_t frame_top = run.stub_entry_rsp;  // the stub's return address is here
  const uint64_t home_end = call.entry_rsp + win64::entry_slot(win64::kRegisterArguments);
  if (frame_known && !tail_call && home_end > frame_top) {
    check.home_area = false;
    violate("home-area",
            fmt::format("{}: the callee's 32-byte home area reaches {} bytes above the stub's frame, over its return "
                        "address; the stub left {} bytes for it", site, home_end - frame_top,
                        frame_top > call.entry_rsp + 8 ? frame_top - call.entry_rsp - 8 : 0),
            call.call_offset);
  }
  const int32_t stack_bytes = call.signature.stack_bytes();
  if (frame_known && !tail_call && check.home_area && stack_bytes > 0 && home_end + stack_bytes > frame_top) {
    check.stack_arguments = false;
    violate("stack-arguments",
            fmt::format("{}: its {} stack argument(s) at [RSP+32] lie above the stub's frame, in its caller's", site,
                        stack_bytes / win64::kSlot),
            call.call_offset);
  }

  for (int i = 0; i < call.signature.count() && i < 8; ++i) {
    if (auto origin = poison_origin(call.argument(i)))
      violate("volatile-reliance",
              fmt::format("{}: {} = {:#x}, {}", site, call.signature.params[static_cast<size_t>(i)].name,
                          call.argument(i), *origin),
              call.call_offset);
  }
  call_findings(call, check.findings);
}

// Diagnoses first (they say why), then where the stub's own arguments went, then what the signature and the
// stand-in tell.
void Checker::call_findings(const CallRecord& call, std::vector<Finding>& out) const {
  const std::optional<win64::Signature>& stub = report_.run.signature;
  for (int j = 0; stub && j < call.signature.count() && j < 8; ++j)
    for (int i = 0; i < stub->count(); ++i)
      if (call.argument(j) == argument_canary(i))
        out.push_back({Finding::Note, fmt::format("argument {} of the stub ({}) reached {} as {}", i + 1,
                                                  stub->params[static_cast<size_t>(i)].name, call.function,
                                                  call.signature.params[static_cast<size_t>(j)].name)});
  for (const Diagnosis& d : diagnoses_) d(image_, report_.run, call, out);
  if (!call.answered)
    out.push_back({Finding::Note, call.dll.empty() ? fmt::format("no stand-in for external {}: it returned 0", call.function)
                                                   : fmt::format("no stand-in for {}!{}: it returned 0", call.dll, call.function)});
  if (call.answered && call.signature.result == win64::ValueType::Bool && static_cast<uint32_t>(call.result) == 0)
    out.push_back({Finding::Failure, fmt::format("{} returned FALSE, GetLastError {}", call.function, call.last_error)});
  if (const StandIn* s = find_standin(standins_, call.function); s && s->findings && call.answered)
    s->findings(call, out);
}

void Checker::check_gps() {
  const RunReport& run = report_.run;
  const Nonvolatiles before = canaries();
  report_.stub.nonvolatiles_preserved = true;
  for (size_t i = 0; i < std::size(win64::kNonvolatileGps); ++i) {
    if (run.after.gp[i] == before.gp[i]) continue;
    report_.stub.nonvolatiles_preserved = false;
    std::string_view reg = win64::kNonvolatileGps[i].name;
    int64_t writer = last_writer(reg);
    violate("nonvolatile",
            fmt::format("{} is nonvolatile but came back {:#x}, not {:#x}{}", upper(reg), run.after.gp[i],
                        before.gp[i], writer >= 0 ? "; last written here" : ""),
            writer);
  }
}

void Checker::check_df() {
  const RunReport& run = report_.run;
  report_.stub.df_clear = run.df_clear();
  if (!report_.stub.df_clear)
    violate("direction-flag", "DF is set on return; Win64 wants it clear on every return and call", last_df_writer());
}

void Checker::check_stub() {
  const RunReport& run = report_.run;
  report_.stub.returned = run.returned();
  // First: whatever else the run says may be the stub's own writing.
  if (!run.outcome_forged.empty()) violate("forged-outcome", run.outcome_forged);
  check_ending();
  // Under Wine with the unwind check: none checked when the image had no unwind data to register.
  if (run.unwind_checked == 0 && run.returned())
    violate("unwind", "no instruction boundary could be checked: the image has no unwind data (w64stub unwind says why)");
  for (const auto& [offset, what] : run.unwind_failures)
    violate("unwind", fmt::format("at +{:#x}, Windows' unwinder: {}", offset, what), offset);
  if (run.processes_left) violate("escaped", "a process of the run outlived it");
  // What follows is read after the return, from a record the stub must not have written over; under Wine only
  // the nonvolatile GPs and DF, where winrun observed them.
  if (!report_.stub.returned || !run.outcome_forged.empty()) return;
  if (run.host != Host::Native) {
    if (run.gp_and_flags_only) check_gps(), check_df();
    return;
  }
  check_returned();
}

void Checker::check_ending() {
  const RunReport& run = report_.run;
  switch (run.ending) {
    case Ending::Returned: break;
    case Ending::Faulted:
      if (run.fault.signal == SIGTRAP && run.fault.offset >= 0) {
        // INT3 traps with RIP after it: name the breakpoint itself.
        const InstrInfo* trap = image_.instr_ending_at(static_cast<uint32_t>(run.fault.offset));
        const int64_t at = trap ? trap->offset : run.fault.offset;
        violate("fault", fmt::format("SIGTRAP (a breakpoint) at +{:#x}", at), at);
        break;
      }
      if (run.fault.signal == SIGSYS) {
        // The trap comes after the SYSCALL: name the instruction that ends where RIP points.
        const InstrInfo* call = run.fault.offset >= 0 ? image_.instr_ending_at(static_cast<uint32_t>(run.fault.offset)) : nullptr;
        const int64_t at = call ? call->offset : run.fault.offset;
        violate("syscall", fmt::format("a system call the sandbox denies: {} ({}) at {}", harness::syscall_name(run.fault.code),
                                       run.fault.code, at >= 0 ? fmt::format("+{:#x}", at)
                                                               : fmt::format("{:#x}, outside the stub", run.fault.rip)),
                at);
        break;
      }
      violate("fault",
              fmt::format("{} touching {:#x} at {}", signal_name(run.fault.signal), run.fault.address,
                          run.fault.offset >= 0 ? fmt::format("+{:#x}", run.fault.offset)
                                                : fmt::format("{:#x}, outside the stub", run.fault.rip)),
              run.fault.offset);
      break;
    case Ending::TimedOut:
      violate("timeout",
              run.fault.signal
                  ? fmt::format("did not return in time; stopped at {}",
                                run.fault.offset >= 0 ? fmt::format("+{:#x}", run.fault.offset)
                                                      : fmt::format("{:#x}, outside the stub", run.fault.rip))
                  : "did not return in time and did not answer the stop signal",
              run.fault.offset);
      break;
    case Ending::Died:
      violate("died", run.fault.signal ? fmt::format("the process died of {}", signal_name(run.fault.signal))
                                       : fmt::format("the process exited with status {}", run.fault.code));
      break;
  }
}

void Checker::check_returned() {
  const RunReport& run = report_.run;
  StubCheck& stub = report_.stub;
  check_gps();
  const Nonvolatiles before = canaries();
  for (size_t j = 0; j < run.after.xmm.size(); ++j) {
    if (run.after.xmm[j] == before.xmm[j]) continue;
    stub.nonvolatiles_preserved = false;
    std::string reg = fmt::format("xmm{}", win64::kFirstNonvolatileXmm + static_cast<int>(j));
    int64_t writer = last_writer(reg);
    violate("nonvolatile",
            fmt::format("{} is nonvolatile but came back {:#018x}{:016x}, not {:#018x}{:016x}{}", upper(reg),
                        run.after.xmm[j][1], run.after.xmm[j][0], before.xmm[j][1], before.xmm[j][0],
                        writer >= 0 ? "; last written here" : ""),
            writer);
  }
  stub.mxcsr_preserved = ((run.after.mxcsr ^ before.mxcsr) & ~win64::kMxcsrStatusFlags) == 0;  // status: volatile
  if (!stub.mxcsr_preserved)
    violate("mxcsr", fmt::format("MXCSR came back {:#x}, not {:#x}; its control bits are nonvolatile",
                                 run.after.mxcsr, before.mxcsr));
  stub.rsp_balanced = run.rsp_intact();
  if (!stub.rsp_balanced)
    violate("rsp-balance",
            fmt::format("RSP came back {:+d} bytes off: the caller's frame is no longer where it left it",
                        static_cast<int64_t>(run.rsp_after_return - run.stub_entry_rsp - 8)),
            last_ret());
  check_df();
  stub.caller_frame_intact = true;
  for (int i = 0; i < kMarkerWords; ++i) {
    if (run.caller_frame[i] == marker_word(i)) continue;
    stub.caller_frame_intact = false;
    violate("caller-frame",
            fmt::format("the caller's frame above the stub's home area was overwritten at [entry RSP+{}]: {:#x}",
                        win64::kSlot + run.marker_offset + 8 * i, run.caller_frame[i]));
  }
}

ProbeReport Checker::check() {
  for (const CallRecord& call : report_.run.calls) {
    CallCheck check;
    check_call(call, check);
    report_.calls.push_back(std::move(check));
  }
  check_stub();
  return std::move(report_);
}

}  // namespace

bool ProbeReport::any(Finding::Kind kind) const {
  for (const CallCheck& c : calls)
    for (const Finding& f : c.findings)
      if (f.kind == kind) return true;
  return false;
}

ProbeReport check_contract(const Image& image, RunReport run, std::span<const Diagnosis> diagnoses,
                           std::span<const StandIn> standins) {
  return Checker(image, std::move(run), diagnoses, standins).check();
}

Expected<ProbeReport> probe(const Image& image, const RunOptions& options, std::span<const Diagnosis> diagnoses) {
  auto run = run_native(image, options);
  if (!run) return run.error();
  return check_contract(image, std::move(*run), diagnoses, options.standins);
}

std::vector<Expected<ProbeReport>> probe_all(std::span<const Image> images, const RunOptions& options,
                                             std::span<const Diagnosis> diagnoses) {
  auto runs = run_native_all(images, options);
  std::vector<Expected<ProbeReport>> reports;
  reports.reserve(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i]) reports.push_back(runs[i].error());
    else reports.push_back(check_contract(images[i], std::move(*runs[i]), diagnoses, options.standins));
  }
  return reports;
}

}  // namespace w64stub
