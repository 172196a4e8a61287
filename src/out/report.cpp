#include "w64stub/out/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "w64stub/core/disasm.hpp"
#include "w64stub/out/listing.hpp"

namespace w64stub {

namespace {

// The source line of a call, when the Image knows it.
std::string call_source(const Image& image, const CallSite& c) {
  const InstrInfo* in = image.instr_at(c.offset);
  if (!in || in->origin != InstrOrigin::Program) return "";
  std::string text(image.source_line(*in));
  std::replace(text.begin(), text.end(), '\t', ' ');
  return fmt::format("  ({}:{}{})", c.loc.file.view(), c.loc.line, text.empty() ? "" : " " + text.substr(text.find_first_not_of(' ')));
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
                       v.source.empty() ? "" : fmt::format("   ({}:{} {})", v.loc.file.view(), v.loc.line, v.source));
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
  if (r.returned()) out += fmt::format("  returned RAX = {:#x}\n", r.value);
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
  if (r.unwind_checked > 0 || (r.unwind_checked == 0 && s.returned))  // a fault ends the check before its count
    out += fmt::format("  unwinds everywhere     {}  (Windows' unwinder at {} instruction boundaries)\n",
                       yes_no(r.unwind_failures.empty() && r.unwind_checked > 0), r.unwind_checked);
  if (r.host != Host::Native)
    out += fmt::format("  ({} not observed under {})\n", r.gp_and_flags_only ? "XMM6-XMM15, MXCSR, RSP and the stub's frame are"
                                                                                : "registers, flags and the stub's frame are", name(r.host));
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


namespace {

struct Slot {
  int64_t rsp;  // offset from RSP after the prolog
  int64_t size;
  std::string what;
};

// The slots of the frame, highest first: what the unwind codes and the frame analysis tell.
std::vector<Slot> frame_slots(const Frame& frame, const UnwindInfo& info, int64_t* fp_rsp) {
  int64_t pushed = 0, allocated = 0;
  for (const UnwindCode& c : info.codes) {
    if (c.op == UnwindOp::PushNonvol) pushed += 8;
    if (c.op == UnwindOp::AllocSmall || c.op == UnwindOp::AllocLarge) allocated += c.value;
  }
  const int64_t depth = pushed + allocated;
  std::vector<Slot> slots = {{depth, 8, "return address               <- RSP at entry"}};
  int64_t below = 0;  // bytes below the entry RSP as the prolog runs
  for (const UnwindCode& c : info.codes) {
    if (c.op == UnwindOp::PushNonvol) below += 8, slots.push_back({depth - below, 8, fmt::format("saved {}", win64::gp_name(c.reg))});
    if (c.op == UnwindOp::AllocSmall || c.op == UnwindOp::AllocLarge) below += c.value;
    if (c.op == UnwindOp::SetFpreg) *fp_rsp = depth - below + info.frame_offset;
  }
  std::vector<Slot> inside;  // within the allocation
  if (frame.shadow) inside.push_back({0, win64::kHomeArea, "home area for the callees"});
  for (int i = 0; i < frame.stack_args; ++i)
    inside.push_back({win64::call_slot(win64::kRegisterArguments + i), 8, fmt::format("stack argument {} of the calls", 5 + i)});
  for (const UnwindCode& c : info.codes) {
    if (c.op == UnwindOp::SaveNonvol || c.op == UnwindOp::SaveNonvolFar) inside.push_back({c.value, 8, fmt::format("saved {}", win64::gp_name(c.reg))});
    if (c.op == UnwindOp::SaveXmm128 || c.op == UnwindOp::SaveXmm128Far) inside.push_back({c.value, 16, fmt::format("saved xmm{}", c.reg)});
  }
  // A save the analysis took for a stack argument (both are stores at [RSP+32] and up) is a save.
  auto saved_at = [&](const Slot& arg) {
    return std::any_of(inside.begin(), inside.end(), [&](const Slot& s) {
      return s.what.starts_with("saved") && s.rsp < arg.rsp + arg.size && arg.rsp < s.rsp + s.size;
    });
  };
  inside.erase(std::remove_if(inside.begin(), inside.end(),
                              [&](const Slot& s) { return s.what.starts_with("stack argument") && saved_at(s); }),
               inside.end());
  std::sort(inside.begin(), inside.end(), [](const Slot& a, const Slot& b) { return a.rsp > b.rsp; });
  int64_t top = allocated;
  for (const Slot& s : inside) {
    if (s.rsp + s.size < top) slots.push_back({s.rsp + s.size, top - s.rsp - s.size, "locals"});
    slots.push_back(s);
    top = std::min(top, s.rsp);
  }
  if (top > 0) slots.push_back({0, top, "locals"});
  return slots;
}

}  // namespace

std::string format_frame_diagram(const Image& image, const Frame& frame, const UnwindInfo& info) {
  int64_t fp_rsp = -1;
  const std::vector<Slot> slots = frame_slots(frame, info, &fp_rsp);
  std::string out = fmt::format("  the frame (offsets from RSP after the prolog{}):\n",
                                info.frame_register ? fmt::format(" and from {}", win64::gp_name(info.frame_register)) : "");
  for (const Slot& s : slots)
    out += fmt::format("    {:<10} {:<10} {:>6}  {}{}\n", fmt::format("RSP+{:#x}", s.rsp),
                       info.frame_register ? fmt::format("{}{:+#x}", win64::gp_name(info.frame_register), s.rsp - fp_rsp) : "",
                       s.size, s.what, s.rsp == 0 ? "   <- RSP after the prolog" : "");
  out += "  what the prolog and epilog do to it:\n";
  for (const InstrInfo& in : image.instrs) {
    auto d = decode_one({image.text.bytes.data() + in.offset, in.length}, image.text.address + in.offset);
    if (!d) continue;
    std::string effect;
    if (in.offset < info.prolog_size) {
      for (const UnwindCode& c : info.codes) {
        if (c.prolog_offset != in.offset + in.length) continue;
        switch (c.op) {
          case UnwindOp::PushNonvol: effect = fmt::format("RSP -= 8, saves {}", win64::gp_name(c.reg)); break;
          case UnwindOp::AllocSmall: case UnwindOp::AllocLarge: effect = fmt::format("RSP -= {:#x}", c.value); break;
          case UnwindOp::SetFpreg: effect = fmt::format("{} = RSP+{:#x}", win64::gp_name(info.frame_register), info.frame_offset); break;
          case UnwindOp::SaveNonvol: case UnwindOp::SaveNonvolFar: effect = fmt::format("saves {} at RSP+{:#x}", win64::gp_name(c.reg), c.value); break;
          case UnwindOp::SaveXmm128: case UnwindOp::SaveXmm128Far: effect = fmt::format("saves xmm{} at RSP+{:#x}", c.reg, c.value); break;
        }
        effect = fmt::format("{:<16} {}", name(c.op), effect);
      }
      if (effect.empty()) continue;
    } else if (d->rsp_down != 0 || d->flow == Flow::Return) {
      effect = d->flow == Flow::Return ? "returns: pops the return address"
               : d->rsp_down < 0       ? fmt::format("RSP += {:#x}", -d->rsp_down)
                                       : fmt::format("RSP -= {:#x}", d->rsp_down);
      effect = fmt::format("{:<16} {}", "epilog", effect);
    } else {
      continue;
    }
    out += fmt::format("    +{:<5x} {:<36} {}\n", in.offset, d->text, effect);
  }
  return out;
}

}  // namespace w64stub
