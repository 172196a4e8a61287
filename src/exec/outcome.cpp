#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include <algorithm>

#include "outcome_p.hpp"

namespace w64stub::harness {

void UnmapOutcome::operator()(Outcome* out) const { munmap(out, sizeof(Outcome)); }

Expected<SharedOutcome> map_outcome() {
  void* shared = mmap(nullptr, sizeof(Outcome), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return Error{fmt::format("mmap of the shared outcome: {}", std::strerror(errno))};
  return SharedOutcome(static_cast<Outcome*>(shared));
}

void copy_outcome(Outcome& to, const Outcome& from) {
  std::memcpy(static_cast<void*>(&to), &from, offsetof(Outcome, calls));
  std::copy_n(from.calls, std::min<size_t>(from.call_count, kMaxCalls), to.calls);
  for (int s = 0; s < 2; ++s) std::memcpy(to.out[s], from.out[s], std::min<size_t>(from.out_size[s], kCaptureBytes));
}

void UnmapOutcomes::operator()(Outcome* outs) const { munmap(outs, count * sizeof(Outcome)); }

Expected<SharedOutcomes> map_outcomes(size_t count) {
  void* shared = mmap(nullptr, count * sizeof(Outcome), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return Error{fmt::format("mmap of {} shared outcomes: {}", count, std::strerror(errno))};
  return SharedOutcomes(static_cast<Outcome*>(shared), UnmapOutcomes{count});
}

std::vector<ImportSlot> import_slots(const Image& image, std::span<const StandIn> standins) {
  std::vector<ImportSlot> slots;
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Import || s.kind == SymbolKind::External) slots.push_back({&s, find_standin(standins, callee_name(s))});
  return slots;
}

namespace {

// A call's output lies in what its stream captured: the harness writes no other.
bool output_in_range(const Outcome& out, const CallSlot& s) {
  const uint32_t captured = std::min<uint32_t>(out.out_size[s.stream - 1], kCaptureBytes);
  return s.output_offset <= captured && s.output_size <= captured - s.output_offset;
}

CallRecord call_record(const Image& image, const RunOptions& options, uint64_t text_address, const Outcome& out,
                       const CallSlot& s, const ImportSlot& import) {
  CallRecord c;
  c.function = callee_name(*import.symbol);
  c.dll = import.symbol->dll;
  c.answered = import.stand_in != nullptr;
  c.signature = signature_of(*import.symbol, options.standins);
  std::copy(std::begin(s.args), std::end(s.args), c.args.begin());
  std::copy(std::begin(s.stack_args), std::end(s.stack_args), c.stack_args.begin());
  std::copy(std::begin(s.xmm_args), std::end(s.xmm_args), c.xmm_args.begin());
  c.entry_rsp = s.entry_rsp;
  c.return_address = s.return_address;
  c.call_residue = static_cast<int>((s.entry_rsp + 8) % 16);
  const uint64_t back = s.return_address - text_address;
  if (s.return_address > text_address && back <= image.code_size)
    if (const InstrInfo* call = image.instr_ending_at(static_cast<uint32_t>(back))) c.call_offset = call->offset;
  c.result = s.result;
  c.last_error = s.last_error;
  if ((s.stream == 1 || s.stream == 2) && output_in_range(out, s)) {
    c.stream = s.stream;
    c.output.assign(out.out[s.stream - 1] + s.output_offset, s.output_size);
  }
  for (int i = 0; i < std::min(c.signature.count(), kMaxArgs); ++i)
    if (c.signature.params[static_cast<size_t>(i)].type == win64::ValueType::Out32)
      c.out_values.emplace_back(i, s.out_values[i] >= 0 && s.out_values[i] <= UINT32_MAX ? s.out_values[i] : -1);
  return c;
}

// The first field of `out` no harness could have written (a stub wrote over the page), or "".
std::string forged_field(const Outcome& out, const Setup& setup, size_t imports) {
  if (out.text_address != setup.text_address || out.data_address != setup.data_address)
    return fmt::format("its text/data address ({:#x}/{:#x}) is not where the harness placed them ({:#x}/{:#x})",
                       out.text_address, out.data_address, setup.text_address, setup.data_address);
  if (out.marker_offset != setup.marker_offset) return fmt::format("its marker offset is {}", out.marker_offset);
  if (!std::equal(std::begin(out.placed), std::end(out.placed), std::begin(setup.placed)))
    return "its symbol addresses are not where the harness placed them";
  if (out.returned > 1 || out.calls_truncated > 1 || out.at_image_addresses != setup.at_image_addresses)
    return fmt::format("its flags are {}/{}/{}", out.returned, out.calls_truncated, out.at_image_addresses);
  if (out.signal < 0 || out.signal > 64) return fmt::format("its signal number is {}", out.signal);
  if (out.call_count > kMaxCalls) return fmt::format("its call count is {} (it keeps {})", out.call_count, kMaxCalls);
  if (out.out_size[0] > kCaptureBytes || out.out_size[1] > kCaptureBytes)
    return fmt::format("its output sizes are {}/{}", out.out_size[0], out.out_size[1]);
  for (uint32_t i = 0; i < out.call_count; ++i) {
    const CallSlot& s = out.calls[i];
    if (s.import_index >= imports || s.stream < -1 || s.stream == 0 || s.stream > 2 ||
        (s.stream > 0 && !output_in_range(out, s)))
      return fmt::format("call {} names import {}, stream {}, output [{}, +{})", i, s.import_index, s.stream,
                         s.output_offset, s.output_size);
  }
  return "";
}

}  // namespace

RunReport collect(const Image& image, const RunOptions& options, const Outcome& out, const Setup& setup) {
  RunReport r;
  const std::vector<ImportSlot> imports = import_slots(image, options.standins);
  if (std::string field = forged_field(out, setup, imports.size()); !field.empty())
    r.outcome_forged = "the harness's outcome was overwritten: " + field;
  r.text_address = setup.text_address;
  r.data_address = setup.data_address;
  r.at_image_addresses = setup.at_image_addresses;
  r.entry_residue = options.entry_residue;
  r.wx_mappings = setup.wx_mappings;
  r.stub_entry_rsp = out.rsp_before_call - 8;
  r.rsp_after_return = out.rsp_after_return;
  std::copy(std::begin(out.gp_after), std::end(out.gp_after), r.after.gp.begin());
  for (int j = 0; j < win64::kNonvolatileXmms; ++j) r.after.xmm[j] = {out.xmm_after[j][0], out.xmm_after[j][1]};
  r.after.mxcsr = out.mxcsr_after;
  r.rflags_after = out.rflags_after;
  r.marker_offset = static_cast<int32_t>(std::min<uint32_t>(setup.marker_offset, 4096));
  r.signature = options.signature;
  r.value = out.rax_after;
  std::copy(std::begin(out.caller_frame), std::end(out.caller_frame), r.caller_frame.begin());
  r.captured_stdout.assign(out.out[0], std::min<size_t>(out.out_size[0], kCaptureBytes));
  r.captured_stderr.assign(out.out[1], std::min<size_t>(out.out_size[1], kCaptureBytes));
  for (size_t i = 0; i < image.symbols.size() && i < kMaxSymbols; ++i)
    r.placed.emplace_back(image.symbols[i].name, setup.placed[i]);

  const uint32_t count = std::min<uint32_t>(out.call_count, kMaxCalls);
  for (uint32_t i = 0; i < count; ++i)
    if (out.calls[i].import_index < imports.size())
      r.calls.push_back(call_record(image, options, setup.text_address, out, out.calls[i], imports[out.calls[i].import_index]));
  r.calls_truncated = out.calls_truncated || out.call_count > kMaxCalls;
  const int64_t fault_offset = out.fault_rip >= setup.text_address && out.fault_rip - setup.text_address < image.code_size
                                   ? static_cast<int64_t>(out.fault_rip - setup.text_address) : -1;
  r.fault = Fault{out.signal, out.code, out.fault_address, out.fault_rip, out.fault_rsp, fault_offset};
  return r;
}

}  // namespace w64stub::harness
