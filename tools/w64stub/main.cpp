// w64stub: the command line over the library. Exit 0 ok, 1 a mismatch, violation or failed call, 2 usage or error.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "options.hpp"
#include "w64stub/w64stub.hpp"

namespace {

using namespace w64stub;
using cli::Options;
using cli::SourceKind;

constexpr int kOk = 0, kFinding = 1, kUsage = 2;

int usage_error(const std::string& message) {
  fmt::print(stderr, "w64stub: {}\n", message);
  return kUsage;
}

// What a verb prints: kept until the verb is done, then written to -o FILE or standard output.
struct Output {
  std::string text;
  int status = kOk;
  std::string diagnostics;  // to stderr, before the status
};

Expected<EmitOptions> emit_options(const Options& o, std::string stub) {
  auto model = parse_model(o.model);
  if (!model) return model.error();
  auto policy = parse_policy(o.policy);
  if (!policy) return policy.error();
  EmitOptions options{*model, *policy, {}, std::move(stub)};
  for (const std::string& a : o.addresses) {
    auto parsed = parse_address_override(a);
    if (!parsed) return parsed.error();
    options.addresses.push_back(*parsed);
  }
  return options;
}

Plan9Options plan9_options(const Options& o) {
  Plan9Options p{o.include_dirs, {}, o.defines};
  if (o.stubs.front() == "-") {  // standard input, read once
    std::stringstream in;
    in << std::cin.rdbuf();
    p.read = [text = in.str()](const std::string& path) -> std::optional<std::string> {
      if (path == "-") return text;
      std::ifstream f(path, std::ios::binary);
      if (!f) return std::nullopt;
      std::stringstream s;
      s << f.rdbuf();
      return s.str();
    };
  }
  return p;
}

// A Plan 9 file's Programs; its errors as an assembler prints them (all of them refuse it, unless
// --keep-going, when they go to `refused` and the rest goes on).
Expected<std::vector<Program>> plan9_programs(const Options& o, std::string* refused) {
  auto file = assemble_plan9_file(o.stubs.front(), plan9_options(o));
  if (!file) return file.error();
  if (!file->errors.empty()) {
    if (!o.keep_going || !refused) return Error{file->report()};
    *refused = file->report();
  }
  return std::move(file->programs);
}

// What a verb makes of a Plan 9 file: One symbol (--symbol, or the file's only one), Each symbol, or the
// whole File as one Image (asm without --symbol). A symbol comes linked with the symbols of the file it calls.
enum class Pick { One, Each, File };

// --keep-going: a symbol emit refuses (an immediate that does not fit, ...) is an assembler's error too;
// the others are linked without it.
void drop_unemittable(std::vector<Program>& all, const Options& o, std::string* refused) {
  auto options = emit_options(o, "");
  std::erase_if(all, [&](const Program& program) {
    auto image = options ? emit(program, *options) : Expected<Image>(options.error());
    if (image) return false;
    *refused += fmt::format("{}{}: error: {}", refused->empty() ? "" : "\n", program.symbol, image.error().message);
    return true;
  });
}

// The Programs STUB names, each with the name reports give it: a catalog stub with its variant, or a Plan 9
// file's symbols as `pick` says, each linked with what it reaches (without follow_calls: not through CALLs).
Expected<std::vector<std::pair<Program, std::string>>> programs(const Options& o, Pick pick, std::string* refused = nullptr,
                                                                bool follow_calls = true) {
  const std::string& source = o.stubs.front();
  std::vector<std::pair<Program, std::string>> out;
  if (cli::source_kind(source) == SourceKind::Catalog) {
    auto variant = parse_variant(o.variant);
    if (!variant) return variant.error();
    auto program = catalog_program(source, *variant);
    if (!program) return program.error();
    out.emplace_back(std::move(*program), fmt::format("{} {}", source, o.variant));
    return out;
  }
  auto all = plan9_programs(o, refused);
  if (!all) return all.error();
  if (refused && o.keep_going) drop_unemittable(*all, o, refused);
  if (o.catalog_page)
    for (Program& p : *all) place_on_catalog_page(p);
  std::vector<std::string> entries;
  if (pick == Pick::One || !o.symbol.empty()) {
    auto chosen = choose_symbol_name(*all, source, o.symbol);
    if (!chosen) return chosen.error();
    entries.push_back(*chosen);
  } else if (pick == Pick::Each) {
    for (const Program& p : *all) entries.push_back(p.symbol);
  } else if (!all->empty()) {
    entries.push_back("");  // every symbol, the first the entry
  }
  const LinkOptions link_options{.relax_between_functions = !o.long_symbol_jumps, .follow_calls = follow_calls};
  const std::optional<Linker> linker = entries.size() > 1 ? std::optional<Linker>(std::in_place, *all, link_options) : std::nullopt;
  for (const std::string& entry : entries) {
    auto linked = linker ? linker->link(entry) : link(*all, entry, link_options);
    if (!linked) return linked.error();
    out.emplace_back(std::move(*linked), "");
  }
  for (auto& [program, stub] : out) stub = short_symbol_name(program.symbol);
  return out;
}

// The Images STUB stands for: an image file as it is, or the Programs emitted.
Expected<std::vector<Image>> images(const Options& o, Pick pick, std::string* refused = nullptr, bool follow_calls = true) {
  if (cli::source_kind(o.stubs.front()) == SourceKind::ImageFile) {
    auto image = read_image_file(o.stubs.front());
    if (!image) return image.error();
    return std::vector<Image>{std::move(*image)};
  }
  auto sources = programs(o, pick, refused, follow_calls);
  if (!sources) return sources.error();
  std::vector<Image> out;
  for (const auto& [program, stub] : *sources) {
    auto options = emit_options(o, stub);
    if (!options) return options.error();
    auto image = emit(program, *options);
    if (!image) return image.error();
    out.push_back(std::move(*image));
  }
  return out;
}

Expected<Output> verb_list(const Options&) {
  Output out;
  for (const CatalogStub& s : catalog_stubs()) out.text += fmt::format("stub     {:<20} {}\n", s.name, s.summary);
  for (Variant v : kVariants) out.text += fmt::format("variant  {:<20} {}\n", name(v), summary(v));
  out.text += fmt::format("model    {:<20} {}\n", "go2012", "absolute 32-bit, a PE linked at 0x400000 (data 0x401000, code 0x402000)");
  out.text += fmt::format("model    {:<20} {}\n", "rip", "position-independent: data after the code, reached RIP-relative");
  out.text += fmt::format("model    {:<20} {}\n", "abs64", "the go2012 layout at 0x150001000, reached through 64-bit immediates");
  out.text += fmt::format("policy   {:<20} {}\n", "as", "GNU as / llvm-mc encodings");
  out.text += fmt::format("policy   {:<20} {}\n", "size", "shortest encodings (nasm, as -O2)");
  return out;
}

Expected<Output> verb_dump(const Options& o) {
  auto format = parse_format(o.format.empty() ? "listing" : o.format);
  if (!format) return format.error();
  auto image = images(o, Pick::One);
  if (!image) return image.error();
  return Output{render(image->front(), *format)};
}

Expected<Output> verb_asm(const Options& o) {
  auto format = parse_format(o.format.empty() ? "listing" : o.format);
  if (!format) return format.error();
  Output out;
  auto all = images(o, Pick::File, &out.diagnostics);
  if (!all) return all.error();
  if (!out.diagnostics.empty()) out.status = kFinding;
  for (const Image& image : *all) out.text += render(image, *format);
  return out;
}

// --nosplit-limit: each TEXT symbol's deepest NOSPLIT chain, and whether it fits.
Expected<Output> nosplit_check(const Options& o) {
  auto programs = plan9_programs(o, nullptr);
  if (!programs) return programs.error();
  Output out;
  for (const NosplitChain& c : nosplit_chains(*programs, o.nosplit_limit)) {
    std::string chain = fmt::format("{}", fmt::join(c.symbols, " -> "));
    if (c.length > c.symbols.size())  // a long chain: its first symbols, how many are left out, its last
      chain = fmt::format("{} -> ... ({} more) -> {}", fmt::join(c.symbols.begin(), c.symbols.end() - 1, " -> "),
                          c.length - c.symbols.size(), c.symbols.back());
    out.text += fmt::format("{:<6} {:>5} bytes  {}{}\n", c.over ? "OVER" : "ok", c.bytes, chain,
                            c.leaves_file ? "  (then outside this file)" : "");
    if (c.over) out.status = kFinding;
  }
  out.text += fmt::format("limit {} bytes: a return address (8) per call and each declared frame along direct CALLs\n",
                          o.nosplit_limit);
  return out;
}

Expected<Output> verb_frame(const Options& o) {
  if (o.nosplit_limit >= 0) return nosplit_check(o);
  // A function's frame is its own: its callees are not linked in (a file's chain of N calls would make each
  // of N images hold the rest of the chain). Tail JMPs are, as the analysis follows them.
  auto all = images(o, Pick::Each, nullptr, false);
  if (!all) return all.error();
  Output out;
  for (const Image& image : *all) {
    const Frame frame = analyze_frame(image, o.entry_rsp_mod16);
    out.text += format_frame(image, frame);
    if (auto unwind = derive_unwind(image)) out.text += format_frame_diagram(image, frame, *unwind);
    else out.text += fmt::format("  (no diagram: {})\n", unwind.error().message);
    if (!frame.calls_aligned() || !frame.balanced || (o.strict && !frame.notes.empty())) out.status = kFinding;
  }
  return out;
}

// What --import and --bind name: an import (by function or symbol) or an external (a function of another file).
Symbol* find_callee(Image& image, std::string_view name) {
  for (Symbol& s : image.symbols)
    if ((s.kind == SymbolKind::Import && s.function == name) ||
        ((s.kind == SymbolKind::Import || s.kind == SymbolKind::External) &&
         (s.name == name || bare_symbol_name(s.name) == bare_symbol_name(name))))
      return &s;
  return nullptr;
}

// --import NAME=SIGNATURE: the import's (or external's) declared signature, in the Image.
Status declare_imports(const Options& o, Image& image) {
  for (const std::string& text : o.imports) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos) return Error{fmt::format("--import {}: expected NAME=SIGNATURE", text)};
    auto signature = win64::parse_signature(text.substr(eq + 1));
    if (!signature) return Error{fmt::format("--import {}: {}", text, signature.error().message)};
    Symbol* callee = find_callee(image, text.substr(0, eq));
    if (!callee) return Error{fmt::format("--import {}: {} has no import or external {}", text, image.stub, text.substr(0, eq))};
    callee->signature = win64::to_string(*signature);
  }
  return Ok{};
}

// --bind NAME=LIB.so:SYMBOL: stand-ins forwarding to host functions, then the built-in ones.
Expected<std::vector<StandIn>> bound_standins(const Options& o, Image& image) {
  std::vector<StandIn> out;
  for (const std::string& text : o.binds) {
    const size_t eq = text.find('='), colon = text.rfind(':');
    if (eq == std::string::npos || colon == std::string::npos || colon < eq)
      return Error{fmt::format("--bind {}: expected NAME=LIB.so:SYMBOL", text)};
    const std::string name = text.substr(0, eq), library = text.substr(eq + 1, colon - eq - 1), symbol = text.substr(colon + 1);
    const Symbol* import = find_callee(image, name);
    if (!import) return Error{fmt::format("--bind {}: {} has no import or external {}", text, image.stub, name)};
    const win64::Signature signature = signature_of(*import, builtin_standins());
    for (const win64::Param& p : signature.params)
      if (win64::is_float(p.type)) return Error{fmt::format("--bind {}: host functions take integers and pointers only", text)};
    void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    void* function = handle ? dlsym(handle, symbol.c_str()) : nullptr;
    if (!function) return Error{fmt::format("--bind {}: {}", text, dlerror())};
    out.push_back(host_function(import->dll, callee_name(*import), signature, function));
  }
  for (const StandIn& s : builtin_standins()) out.push_back(s);
  return out;
}

// A report that makes `probe` and `run` exit 1: a violation, a failed call, or with --strict a note.
bool has_findings(const Options& o, const ProbeReport& report) {
  return !report.conformant() || report.any(Finding::Failure) || (o.strict && report.any(Finding::Note));
}

// Runs the stub natively in a child process between the probe's caller and callees, or under wine64 through
// winrun (--host wine), and checks the contract on what was observed.
Expected<Output> execute(const Options& o, bool probe_table) {
  auto one = images(o, Pick::One);
  if (!one) return one.error();
  Image& image = one->front();
  if (auto declared = declare_imports(o, image); !declared) return declared.error();
  std::optional<win64::Signature> signature;
  if (!o.signature.empty()) {
    auto parsed = win64::parse_signature(o.signature);
    if (!parsed) return Error{fmt::format("--signature: {}", parsed.error().message)};
    signature = *parsed;
  }
  Expected<ProbeReport> report = Error{""};
  if (o.host == "native") {
    auto standins = bound_standins(o, image);
    if (!standins) return standins.error();
    report = probe(image, {!o.live, o.entry_rsp_mod16, !o.relocate, std::chrono::milliseconds(o.timeout_ms), *standins,
                           signature},
                   catalog_diagnoses());
  } else {
    auto setup = find_wine();
    if (!setup) return setup.error();
    std::vector<uint64_t> args;  // --signature: the same canaries as natively
    for (int i = 0; signature && i < std::min(signature->count(), 8); ++i) args.push_back(argument_canary(i));
    // probe: every boundary unwound
    auto runs = run_wine({&image, 1}, *setup,
                         {.unwind_check = probe_table, .args = args, .stub_timeout = std::chrono::milliseconds(o.timeout_ms)});
    if (!runs) return runs.error();
    if (!runs->front()) return runs->front().error();
    runs->front()->signature = signature;
    report = check_contract(image, std::move(*runs->front()), catalog_diagnoses());
  }
  if (!report) return report.error();
  Output out;
  out.text = o.format == "json" ? format_json(image, *report)
             : probe_table      ? format_probe(image, *report)
                                : format_run(image, *report);
  out.status = has_findings(o, *report) ? kFinding : kOk;
  return out;
}

// probe --each: every symbol of the file, probed together (natively in batches, under Wine in one session);
// the reports one after another (json: an array), a stub that could not run an error on stderr.
Expected<Output> probe_each(const Options& o) {
  auto all = images(o, Pick::Each);
  if (!all) return all.error();
  std::vector<Expected<ProbeReport>> reports;
  if (o.host == "native") {
    reports = probe_all(*all, {!o.live, o.entry_rsp_mod16, !o.relocate, std::chrono::milliseconds(o.timeout_ms)},
                        catalog_diagnoses());
  } else {
    auto setup = find_wine();
    if (!setup) return setup.error();
    auto runs = run_wine(*all, *setup, {.unwind_check = true, .stub_timeout = std::chrono::milliseconds(o.timeout_ms)});
    if (!runs) return runs.error();
    for (size_t i = 0; i < runs->size(); ++i)
      reports.push_back((*runs)[i] ? Expected<ProbeReport>(check_contract((*all)[i], std::move(*(*runs)[i]), catalog_diagnoses()))
                                   : Expected<ProbeReport>((*runs)[i].error()));
  }
  Output out;
  std::vector<std::string> texts;
  for (size_t i = 0; i < reports.size(); ++i) {
    const Expected<ProbeReport>& report = reports[i];
    if (!report) {
      out.diagnostics += fmt::format("{}{}: error: {}", out.diagnostics.empty() ? "" : "\n", (*all)[i].stub, report.error().message);
      out.status = kFinding;
      continue;
    }
    texts.push_back(o.format == "json" ? format_json((*all)[i], *report) : format_probe((*all)[i], *report));
    if (has_findings(o, *report)) out.status = kFinding;
  }
  out.text = o.format == "json" ? fmt::format("[{}]\n", fmt::join(texts, ",\n")) : fmt::format("{}", fmt::join(texts, "\n"));
  return out;
}

Expected<Output> verb_unwind(const Options& o) {
  auto one = images(o, Pick::One);
  if (!one) return one.error();
  const Image& image = one->front();
  auto info = derive_unwind(image);
  if (!info) return info.error();
  if (o.format == "hex") return Output{format_hex(info->encode())};
  if (o.format != "json") return Output{format_unwind(image, *info)};
  nlohmann::ordered_json codes = nlohmann::ordered_json::array();
  for (const UnwindCode& c : info->codes)
    codes.push_back({{"prolog_offset", c.prolog_offset}, {"op", name(c.op)}, {"reg", c.reg}, {"value", c.value}});
  const nlohmann::ordered_json j = {{"symbol", image.symbol}, {"prolog_size", info->prolog_size},
                                    {"frame_register", info->frame_register}, {"frame_offset", info->frame_offset},
                                    {"codes", codes}, {"bytes", fmt::format("{:02x}", fmt::join(info->encode(), ""))}};
  return Output{j.dump(2) + "\n"};
}

// A COFF object: a catalog stub, one symbol (--symbol) or a whole Plan 9 file, or an image file. A function
// without unwind data is a note on stderr (with --strict, an error).
Expected<Output> verb_obj(const Options& o) {
  auto names = parse_object_names(o.object_names);
  if (!names) return names.error();
  auto one = images(o, Pick::File);
  if (!one) return one.error();
  auto object = write_object(one->front(), {*names, o.package, o.symbol_prefix});
  if (!object) return object.error();
  Output out{{object->bytes.begin(), object->bytes.end()}};
  for (const std::string& note : object->notes) out.diagnostics += (out.diagnostics.empty() ? "note: " : "\nnote: ") + note;
  if (o.strict && !object->notes.empty()) return Error{out.diagnostics};
  return out;
}

Expected<Output> verb_verify(const Options& o) {
  const std::string dir = !o.ref_dir.empty() ? o.ref_dir : data_dir().empty() ? "" : data_dir() + "/ref";
  if (dir.empty()) return Error{"no reference directory: pass --ref-dir DIR (or set W64STUB_DATA_DIR)"};
  std::vector<std::string> stubs = o.stubs;
  if (stubs.empty())
    for (const CatalogStub& s : catalog_stubs()) stubs.emplace_back(s.name);
  Output out;
  int mismatches = 0, matches = 0, refused = 0;
  for (const std::string& stub : stubs) {
    if (auto known = catalog_program(stub, Variant::Fixed); !known) return known.error();
    for (const Verdict& v : verify_stub(stub, dir)) {
      switch (v.kind) {
        case Verdict::Match: out.text += fmt::format("ok        {} ({} bytes)\n", v.stem, v.bytes), ++matches; break;
        case Verdict::Refused: out.text += fmt::format("refused   {}: {}\n", v.stem, v.detail), ++refused; break;
        case Verdict::Mismatch: out.text += fmt::format("MISMATCH  {}\n{}\n", v.stem, v.detail), ++mismatches; break;
      }
    }
  }
  out.text += fmt::format("{} match, {} mismatch, {} refused without a reference\n", matches, mismatches, refused);
  out.status = mismatches ? kFinding : kOk;
  return out;
}

Expected<Output> run_verb(const Options& o) {
  if (o.verb == "list") return verb_list(o);
  if (o.verb == "dump") return verb_dump(o);
  if (o.verb == "asm") return verb_asm(o);
  if (o.verb == "frame") return verb_frame(o);
  if (o.verb == "run") return execute(o, false);
  if (o.verb == "probe") return o.each ? probe_each(o) : execute(o, true);
  if (o.verb == "unwind") return verb_unwind(o);
  if (o.verb == "obj") return verb_obj(o);
  return verb_verify(o);
}

}  // namespace

int main(int argc, char** argv) {
  cli::CommandLine command_line;
  auto parsed = command_line.parse(argc, argv);
  if (!parsed) return usage_error(parsed.error().message);
  if (!*parsed) return kOk;  // help or version
  if (auto applicable = command_line.check_applicable(); !applicable) return usage_error(applicable.error().message);
  const Options& o = command_line.options();
  auto out = run_verb(o);
  if (!out) return usage_error(out.error().message);
  if (!out->diagnostics.empty()) fmt::print(stderr, "{}\n", out->diagnostics);
  if (o.output.empty()) {
    std::fwrite(out->text.data(), 1, out->text.size(), stdout);
  } else {
    std::ofstream file(o.output, std::ios::binary);
    if (!file.write(out->text.data(), static_cast<std::streamsize>(out->text.size())) || !file.flush())
      return usage_error(fmt::format("cannot write {}", o.output));
  }
  return out->status;
}
