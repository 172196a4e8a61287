#include "w64stub/out/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "w64stub/out/listing.hpp"

namespace w64stub {

namespace {

std::string call_site_name(const Image& image, const CallSite& site) {
  for (const InstrInfo& i : image.instrs)
    if (i.program_index == static_cast<int>(site.instr)) return fmt::format("+{:#x}", i.offset);
  return "?";
}

}  // namespace

std::string format_frame(const Image& image) {
  const Frame& f = image.frame;
  std::string out = fmt::format("{} ({})\n", image.symbol, image.stub);
  out += fmt::format("  declared frame      {:>4}  (linker-managed: Go's ${})\n", f.declared, f.declared);
  out += fmt::format("  explicit adjustment {:>4}  (sub rsp / push in the body)\n", f.explicit_adjust);
  out += fmt::format("  home area           {:>4}\n", f.shadow);
  out += fmt::format("  stack arguments     {:>4}  ({} bytes)\n", f.stack_args, 8 * f.stack_args);
  out += fmt::format("  locals              {:>4}\n", f.locals);
  out += fmt::format("  max depth           {:>4}  (with the return address)\n", f.max_depth());
  out += fmt::format("  balanced            {:>4}\n", f.balanced ? "yes" : "no");
  out += fmt::format("  calls, entered with RSP = {} (mod 16):\n", f.entry_residue);
  for (const CallSite& c : f.calls)
    out += fmt::format("    {:<7} line {:<3} depth {:>3}  RSP = {:>2} (mod 16)  {}\n", call_site_name(image, c),
                       c.loc.line, c.depth, c.residue, c.aligned() ? "aligned" : "MISALIGNED");
  for (const std::string& note : f.notes) out += fmt::format("  note: {}\n", note);
  return out;
}

namespace {

std::string arguments(const CallRecord& c) {
  const auto stand_in = find_standin(c.function);
  if (!stand_in) return fmt::format("rcx={:#x} rdx={:#x} r8={:#x} r9={:#x}", c.args[0], c.args[1], c.args[2], c.args[3]);
  std::vector<std::string> parts;
  for (int i = 0; i < c.argument_count; ++i) {
    const uint64_t v = c.argument(i);
    // DWORD arguments are the low half of the register; nStdHandle is a negative DWORD.
    if (*stand_in == StandIn::GetStdHandle) parts.push_back(fmt::format("{}={}", argument_name(*stand_in, i), static_cast<int32_t>(v)));
    else if (*stand_in == StandIn::WriteFile && i == 2) parts.push_back(fmt::format("{}={}", argument_name(*stand_in, i), static_cast<uint32_t>(v)));
    else parts.push_back(fmt::format("{}={:#x}", argument_name(*stand_in, i), v));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

std::string result(const CallRecord& c) {
  if (c.function == "WriteFile") return fmt::format("{} (GetLastError {})", c.result ? "TRUE" : "FALSE", c.last_error);
  if (c.function == "GetLastError") return fmt::format("{}", c.result);
  return fmt::format("{:#x}", c.result);
}

std::string site(const CallRecord& c) { return c.call_offset >= 0 ? fmt::format("+{:#x}", c.call_offset) : "outside"; }

std::string heading(const Image& image, const RunReport& r) {
  return fmt::format("{} ({}) model {}, {}: .text at {:#x}{}{}\n  entered with RSP = {} (mod 16); {}\n", image.symbol,
                     image.stub, name(image.model), name(r.host), r.text_address,
                     r.data_address ? fmt::format(", .data at {:#x}", r.data_address) : "",
                     r.at_image_addresses ? " (the image's own addresses)" : " (relocated)", r.entry_residue,
                     name(r.ending));
}

std::string violation_lines(const Violation& v) {
  std::string out = fmt::format("  {:<17} {}\n", v.rule, v.message);
  if (v.offset >= 0)
    out += fmt::format("  {:<17} at +{:#x}: {}{}\n", "", v.offset, v.instruction,
                       v.source.empty() ? "" : fmt::format("   ({}:{} {})", v.loc.file, v.loc.line, v.source));
  return out;
}

std::string yes_no(bool b) { return b ? "yes" : "NO"; }

}  // namespace

std::string format_run(const Image& image, const ProbeReport& p) {
  const RunReport& r = p.run;
  std::string out = heading(image, r);
  for (const CallRecord& c : r.calls)
    out += fmt::format("  {} at {}: RSP = {} (mod 16) at the CALL\n    {}\n    ->  {}{}\n", c.function, site(c),
                       c.call_residue, arguments(c), result(c),
                       c.fd > 0 ? fmt::format(", wrote {} bytes to fd {}", c.written.size(), c.fd)
                       : c.written_count >= 0 ? fmt::format(", *lpNumberOfBytesWritten = {}", c.written_count) : "");
  if (r.calls_truncated) out += "  (more calls than the harness keeps)\n";
  if (!r.captured_stderr.empty()) out += fmt::format("  stderr: \"{}\"\n", escape_text(r.captured_stderr));
  if (!r.captured_stdout.empty()) out += fmt::format("  stdout: \"{}\"\n", escape_text(r.captured_stdout));
  if (r.returned() && r.host == Host::Native)
    out += fmt::format("  RSP after return: {}\n", r.rsp_intact() ? "intact" : "CHANGED");
  size_t notes = 0;
  for (const CallCheck& c : p.calls)
    for (const std::string& note : c.notes) out += fmt::format("  finding: {}\n", note), ++notes;
  for (const Violation& v : p.violations) out += fmt::format("  finding: {}\n", v.message);
  if (notes == 0 && p.violations.empty()) out += "  findings: none\n";
  return out;
}

std::string format_probe(const Image& image, const ProbeReport& p) {
  const RunReport& r = p.run;
  std::string out = heading(image, r);
  out += fmt::format("  {:<8} {:<13} {:<9} {:<10} {:<10} {}\n", "call", "target", "RSP%16", "home area", "stack args",
                     "arguments -> result");
  for (size_t i = 0; i < r.calls.size(); ++i) {
    const CallRecord& c = r.calls[i];
    const CallCheck& k = p.calls[i];
    out += fmt::format("  {:<8} {:<13} {:<9} {:<10} {:<10} {} -> {}\n", site(c), c.function,
                       fmt::format("{} {}", c.call_residue, k.aligned ? "ok" : "BAD"), k.home_area ? "ok" : "MISSING",
                       c.argument_count <= 4 ? "-" : k.stack_arguments ? "ok" : "OUTSIDE", arguments(c), result(c));
    for (const std::string& note : k.notes) out += fmt::format("  {:<8} note: {}\n", "", note);
  }
  if (r.calls.empty()) out += "  (no calls)\n";
  const StubCheck& s = p.stub;
  out += fmt::format("  returned normally      {}\n", yes_no(s.returned));
  if (r.host != Host::Native) out += fmt::format("  (registers, flags and the stub's frame are not observed under {})\n", name(r.host));
  else if (s.returned) {
    out += fmt::format("  nonvolatiles kept      {}  (RBX RBP RDI RSI R12-R15 XMM6-XMM15)\n", yes_no(s.nonvolatiles_preserved));
    out += fmt::format("  MXCSR kept             {}\n", yes_no(s.mxcsr_preserved));
    out += fmt::format("  RSP balanced           {}\n", yes_no(s.rsp_balanced));
    out += fmt::format("  DF clear               {}\n", yes_no(s.df_clear));
    out += fmt::format("  caller frame intact    {}\n", yes_no(s.caller_frame_intact));
  }
  if (p.conformant()) return out + "  conformant\n";
  out += fmt::format("  {} violation(s):\n", p.violations.size());
  for (const Violation& v : p.violations) out += violation_lines(v);
  return out;
}

std::string format_json(const Image& image, const ProbeReport& p) {
  const RunReport& r = p.run;
  std::string out = fmt::format("{{\n  \"stub\": {}, \"symbol\": {}, \"model\": \"{}\", \"text_address\": {}, "
                                "\"data_address\": {}, \"at_image_addresses\": {}, \"entry_residue\": {}, "
                                "\"ending\": \"{}\", \"host\": \"{}\",\n  \"calls\": [",
                                json_string(image.stub), json_string(image.symbol), name(image.model), r.text_address,
                                r.data_address, r.at_image_addresses, r.entry_residue, name(r.ending), name(r.host));
  for (size_t i = 0; i < r.calls.size(); ++i) {
    const CallRecord& c = r.calls[i];
    const CallCheck& k = p.calls[i];
    std::vector<std::string> notes;
    for (const std::string& n : k.notes) notes.push_back(json_string(n));
    out += fmt::format("{}\n    {{\"function\": {}, \"call_offset\": {}, \"call_residue\": {}, \"aligned\": {}, "
                       "\"home_area\": {}, \"stack_arguments\": {}, \"args\": [{}], \"entry_rsp\": {}, \"result\": {}, "
                       "\"last_error\": {}, \"written\": {}, \"written_count\": {}, \"notes\": [{}]}}",
                       i ? "," : "", json_string(c.function), c.call_offset, c.call_residue, k.aligned, k.home_area,
                       k.stack_arguments, fmt::join(c.args, ", "), c.entry_rsp,
                       c.result, c.last_error, json_string(c.written), c.written_count, fmt::join(notes, ", "));
  }
  const StubCheck& s = p.stub;
  out += fmt::format("\n  ],\n  \"stub_checks\": {{\"returned\": {}, \"nonvolatiles_preserved\": {}, \"mxcsr_preserved\": "
                     "{}, \"rsp_balanced\": {}, \"df_clear\": {}, \"caller_frame_intact\": {}}},\n",
                     s.returned, s.nonvolatiles_preserved, s.mxcsr_preserved, s.rsp_balanced, s.df_clear,
                     s.caller_frame_intact);
  if (r.ending == Ending::Faulted || r.ending == Ending::TimedOut)
    out += fmt::format("  \"fault\": {{\"signal\": {}, \"address\": {}, \"rip\": {}, \"offset\": {}}},\n", r.fault.signal,
                       r.fault.address, r.fault.rip, r.fault.offset);
  out += fmt::format("  \"stdout\": {}, \"stderr\": {},\n  \"conformant\": {},\n  \"violations\": [",
                     json_string(r.captured_stdout), json_string(r.captured_stderr), p.conformant());
  for (size_t i = 0; i < p.violations.size(); ++i) {
    const Violation& v = p.violations[i];
    out += fmt::format("{}\n    {{\"rule\": \"{}\", \"message\": {}, \"offset\": {}, \"instruction\": {}, \"line\": {}, "
                       "\"source\": {}}}",
                       i ? "," : "", v.rule, json_string(v.message), v.offset, json_string(v.instruction), v.loc.line,
                       json_string(v.source));
  }
  return out + (p.violations.empty() ? "]\n}\n" : "\n  ]\n}\n");
}

}  // namespace w64stub
