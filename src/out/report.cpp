#include "w64stub/out/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "w64stub/out/listing.hpp"

namespace w64stub {

namespace {

// The source line of a call, when the Image knows it.
std::string call_source(const Image& image, const CallSite& c) {
  const InstrInfo* in = image.instr_at(c.offset);
  if (!in || in->origin != InstrOrigin::Program) return "";
  std::string text(image.source_line(*in));
  std::replace(text.begin(), text.end(), '\t', ' ');
  return fmt::format("  ({}:{}{})", c.loc.file, c.loc.line, text.empty() ? "" : " " + text.substr(text.find_first_not_of(' ')));
}

}  // namespace

std::string format_frame(const Image& image, const Frame& f) {
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
    out += fmt::format("    {:<7} depth {:>3}  RSP = {:>2} (mod 16)  {}{}\n", fmt::format("+{:#x}", c.offset), c.depth,
                       c.residue, c.aligned() ? "aligned" : "MISALIGNED", call_source(image, c));
  for (const std::string& note : f.notes) out += fmt::format("  note: {}\n", note);
  return out;
}

namespace {

// Each argument as its signature names and types it; four registers for a call nothing declared.
std::string arguments(const CallRecord& c) {
  std::vector<std::string> parts;
  for (int i = 0; i < c.signature.count() && i < 8; ++i) {
    const win64::Param& p = c.signature.params[static_cast<size_t>(i)];
    parts.push_back(fmt::format("{}={}", p.name, win64::format_value(p.type, c.argument(i))));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

std::string result(const CallRecord& c) {
  std::string out = win64::format_value(c.signature.result, c.result);
  if (c.signature.result == win64::ValueType::Bool) out += fmt::format(" (GetLastError {})", c.last_error);
  return out;
}

// What the call left behind: bytes written to a stream, out32 parameters.
std::string effects(const CallRecord& c) {
  std::string out;
  if (c.stream > 0) out += fmt::format(", wrote {} bytes to fd {}", c.output.size(), c.stream);
  for (const auto& [index, value] : c.out_values)
    out += value < 0 ? fmt::format(", *{} unreadable", c.signature.params[static_cast<size_t>(index)].name)
                     : fmt::format(", *{} = {}", c.signature.params[static_cast<size_t>(index)].name, value);
  return out;
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
                       c.call_residue, arguments(c), result(c), effects(c));
  if (r.calls_truncated) out += "  (more calls than the harness keeps)\n";
  if (!r.captured_stderr.empty()) out += fmt::format("  stderr: \"{}\"\n", escape_text(r.captured_stderr));
  if (!r.captured_stdout.empty()) out += fmt::format("  stdout: \"{}\"\n", escape_text(r.captured_stdout));
  if (r.returned() && r.host == Host::Native)
    out += fmt::format("  RSP after return: {}\n", r.rsp_intact() ? "intact" : "CHANGED");
  size_t findings = 0;
  for (const CallCheck& c : p.calls)
    for (const Finding& f : c.findings)
      out += fmt::format("  {}: {}\n", f.kind == Finding::Failure ? "failure" : "note", f.text), ++findings;
  for (const Violation& v : p.violations) out += fmt::format("  violation: {}\n", v.message);
  if (findings == 0 && p.violations.empty()) out += "  findings: none\n";
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
                       c.signature.stack_bytes() == 0 ? "-" : k.stack_arguments ? "ok" : "OUTSIDE", arguments(c), result(c));
    for (const Finding& f : k.findings)
      out += fmt::format("  {:<8} {}: {}\n", "", f.kind == Finding::Failure ? "failure" : "note", f.text);
  }
  if (r.calls.empty()) out += "  (no calls)\n";
  const StubCheck& s = p.stub;
  out += fmt::format("  returned normally      {}\n", yes_no(s.returned));
  if (r.unwind_checked >= 0)
    out += fmt::format("  unwinds everywhere     {}  (Windows' unwinder at {} instruction boundaries)\n",
                       yes_no(r.unwind_failures.empty() && r.unwind_checked > 0), r.unwind_checked);
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
  using Json = nlohmann::ordered_json;
  const RunReport& r = p.run;
  Json calls = Json::array();
  for (size_t i = 0; i < r.calls.size(); ++i) {
    const CallRecord& c = r.calls[i];
    const CallCheck& k = p.calls[i];
    Json findings = Json::array();
    for (const Finding& f : k.findings) findings.push_back({{"kind", f.kind == Finding::Failure ? "failure" : "note"}, {"text", f.text}});
    Json args = Json::array();
    for (int a = 0; a < std::max(c.signature.count(), 4) && a < 8; ++a) args.push_back(c.argument(a));
    Json outs = Json::object();
    for (const auto& [index, value] : c.out_values) outs[c.signature.params[static_cast<size_t>(index)].name] = value;
    calls.push_back({{"function", c.function}, {"dll", c.dll}, {"signature", win64::to_string(c.signature)},
                     {"call_offset", c.call_offset}, {"call_residue", c.call_residue}, {"aligned", k.aligned},
                     {"home_area", k.home_area}, {"stack_arguments", k.stack_arguments}, {"args", args},
                     {"entry_rsp", c.entry_rsp}, {"result", c.result}, {"last_error", c.last_error},
                     {"stream", c.stream}, {"output", c.output}, {"out", outs}, {"findings", findings}});
  }
  const StubCheck& s = p.stub;
  Json j = {{"stub", image.stub}, {"symbol", image.symbol}, {"model", name(image.model)},
            {"text_address", r.text_address}, {"data_address", r.data_address},
            {"at_image_addresses", r.at_image_addresses}, {"entry_residue", r.entry_residue},
            {"ending", name(r.ending)}, {"host", name(r.host)}, {"calls", calls},
            {"stub_checks", {{"returned", s.returned}, {"nonvolatiles_preserved", s.nonvolatiles_preserved},
                             {"mxcsr_preserved", s.mxcsr_preserved}, {"rsp_balanced", s.rsp_balanced},
                             {"df_clear", s.df_clear}, {"caller_frame_intact", s.caller_frame_intact}}}};
  if (r.ending == Ending::Faulted || r.ending == Ending::TimedOut)
    j["fault"] = {{"signal", r.fault.signal}, {"address", r.fault.address}, {"rip", r.fault.rip}, {"offset", r.fault.offset}};
  j["stdout"] = r.captured_stdout;
  j["stderr"] = r.captured_stderr;
  j["conformant"] = p.conformant();
  j["violations"] = Json::array();
  for (const Violation& v : p.violations)
    j["violations"].push_back({{"rule", v.rule}, {"message", v.message}, {"offset", v.offset},
                               {"instruction", v.instruction}, {"line", v.loc.line}, {"source", v.source}});
  // Captured bytes need not be UTF-8: replace what is not, rather than refuse to print the report.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace w64stub
