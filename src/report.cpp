#include "w64stub/report.hpp"

#include <fmt/format.h>

#include "w64stub/listing.hpp"

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

std::string format_run(const Image& image, const RunReport& r) {
  std::string out = fmt::format("{} ({}) model {}: .text at {:#x}{}{}\n", image.symbol, image.stub, name(image.model),
                                r.text_address, r.data_address ? fmt::format(", .data at {:#x}", r.data_address) : "",
                                r.at_image_addresses ? " (the image's own addresses)" : " (relocated)");
  out += fmt::format("  entered with RSP = {} (mod 16)\n", r.entry_residue);
  for (const CallRecord& c : r.calls) {
    out += fmt::format("  {}: RSP = {} (mod 16) at the CALL{}\n", c.function, c.call_residue,
                       c.call_offset >= 0 ? fmt::format(" at +{:#x}", c.call_offset) : "");
    if (c.function == "GetStdHandle")
      out += fmt::format("    nStdHandle={}  ->  {:#x}\n", static_cast<int32_t>(c.args[0]), c.result);
    else if (c.function == "WriteFile")
      out += fmt::format("    hFile={:#x} lpBuffer={:#x} nNumberOfBytesToWrite={} lpNumberOfBytesWritten={:#x} "
                         "lpOverlapped={:#x}\n    ->  {} (GetLastError {}), wrote {} bytes\n",
                         c.args[0], c.args[1], static_cast<uint32_t>(c.args[2]), c.args[3], c.args[4],
                         c.result ? "TRUE" : "FALSE", c.last_error, c.written.size());
    else
      out += fmt::format("    args {:#x} {:#x} {:#x} {:#x}  ->  {:#x}\n", c.args[0], c.args[1], c.args[2], c.args[3],
                         c.result);
  }
  if (!r.captured_stderr.empty()) out += fmt::format("  stderr: \"{}\"\n", escape_text(r.captured_stderr));
  if (!r.captured_stdout.empty()) out += fmt::format("  stdout: \"{}\"\n", escape_text(r.captured_stdout));
  out += fmt::format("  RSP after return: {}\n", r.rsp_intact() ? "intact" : "CHANGED");
  if (r.findings.empty()) out += "  findings: none\n";
  for (const std::string& f : r.findings) out += fmt::format("  finding: {}\n", f);
  return out;
}

std::string format_run_json(const Image& image, const RunReport& r) {
  std::string out = fmt::format("{{\n  \"stub\": {}, \"model\": \"{}\", \"text_address\": {}, \"data_address\": {}, "
                                "\"at_image_addresses\": {}, \"entry_residue\": {},\n  \"calls\": [",
                                json_string(image.stub), name(image.model), r.text_address, r.data_address,
                                r.at_image_addresses, r.entry_residue);
  for (size_t i = 0; i < r.calls.size(); ++i) {
    const CallRecord& c = r.calls[i];
    out += fmt::format("{}\n    {{\"function\": {}, \"args\": [{}, {}, {}, {}, {}], \"call_residue\": {}, "
                       "\"call_offset\": {}, \"result\": {}, \"last_error\": {}, \"written\": {}}}",
                       i ? "," : "", json_string(c.function), c.args[0], c.args[1], c.args[2], c.args[3], c.args[4],
                       c.call_residue, c.call_offset, c.result, c.last_error, json_string(c.written));
  }
  out += fmt::format("\n  ],\n  \"stdout\": {}, \"stderr\": {}, \"rsp_intact\": {},\n  \"findings\": [",
                     json_string(r.captured_stdout), json_string(r.captured_stderr), r.rsp_intact());
  for (size_t i = 0; i < r.findings.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", json_string(r.findings[i]));
  return out + "]\n}\n";
}

}  // namespace w64stub
