// w64stub: the command line over the library. Exit 0 ok, 1 mismatch or finding, 2 usage or error.
#include <fmt/format.h>

#include <cstdio>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "args.hpp"
#include "w64stub/catalog/catalog.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/out/golden.hpp"
#include "w64stub/catalog/verify.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/out/listing.hpp"
#include "w64stub/plan9/asm.hpp"
#include "w64stub/out/report.hpp"
#include "w64stub/exec/wine.hpp"

namespace {

using namespace w64stub;
using cli::Args;

constexpr int kOk = 0, kFinding = 1, kUsage = 2;

const char* const kUsageText = R"(usage: w64stub VERB [options]   (w64stub VERB --help for each)
  list                      catalog stubs, variants, models, policies
  dump STUB [options]       emitted bytes: listing, hex, c, json, bin or an image file
  run STUB [options]        execute natively under the Win64 harness and report what the calls received
  probe STUB [options]      execute under hostile callees and check the whole Win64 contract
STUB is a catalog name (w64stub list), a Plan 9 file FILE.s (--symbol NAME when it has several TEXT
symbols, -I DIR for its includes) or, for run, probe and dump, an image file FILE.image.
  verify [STUB...]          compare every variant/model/policy with testdata/ref
  frame STUB [options]      declared frame, explicit adjustment, max depth, alignment at each CALL
  asm FILE.s [options]      assemble Plan 9 (Go) amd64 text: every TEXT symbol, emitted
)";

const char* const kStubOptions = R"(  --variant faithful|fixed|abi   (default faithful: the 2012 text)
  --model go2012|rip|abs64       (default go2012)
  --policy as|size               (default as)
  --addr NAME=VALUE              place code, data or a symbol elsewhere (repeatable)
)";

int usage_error(const std::string& message) {
  fmt::print(stderr, "w64stub: {}\n", message);
  return kUsage;
}

bool is_plan9(const std::string& path) { return path.ends_with(".s"); }

// The model, policy, addresses and entry condition the arguments ask for.
Expected<EmitOptions> emit_options(const Args& args, std::string stub) {
  auto model = parse_model(args.model);
  if (!model) return model.error();
  auto policy = parse_policy(args.policy);
  if (!policy) return policy.error();
  EmitOptions options{*model, *policy, {}, std::move(stub)};
  for (const std::string& a : args.addresses) {
    auto o = parse_address_override(a);
    if (!o) return o.error();
    options.addresses.push_back(*o);
  }
  return options;
}

// The one STUB named by the arguments: a catalog stub with its variant, a TEXT symbol of a Plan 9 file
// (--symbol), or an image file; emitted with the arguments' model, policy and addresses.
Expected<Image> emit_stub(const Args& args) {
  if (args.positional.size() != 1)
    return Error{args.positional.empty() ? "missing STUB (see w64stub list)" : "expected exactly one STUB"};
  const std::string& source = args.positional[0];
  // An image file (w64stub dump --format image) stands for itself: its bytes are already laid out.
  if (source.ends_with(".image")) return read_image_file(source);
  Expected<Program> program = Error{""};
  std::string stub;
  if (is_plan9(source)) {
    program = assemble_plan9_symbol(source, args.symbol, {args.include_dirs, {}});
    if (program && args.catalog_page) place_on_catalog_page(*program);
    if (program) stub = short_symbol_name(program->symbol);
  } else {
    auto variant = parse_variant(args.variant);
    if (!variant) return variant.error();
    program = catalog_program(source, *variant);
    stub = fmt::format("{} {}", source, args.variant);
  }
  if (!program) return program.error();
  auto options = emit_options(args, stub);
  if (!options) return options.error();
  return emit(*program, *options);
}

// `asm FILE.s`: every TEXT symbol (or --symbol's), emitted.
Expected<std::vector<Image>> emit_file(const Args& args) {
  if (args.positional.size() != 1 || !is_plan9(args.positional[0]))
    return Error{args.positional.empty() ? "missing FILE.s" : "expected exactly one FILE.s"};
  if (!args.symbol.empty()) {
    auto one = emit_stub(args);
    if (!one) return one.error();
    return std::vector<Image>{std::move(*one)};
  }
  auto programs = assemble_plan9(args.positional[0], {args.include_dirs, {}});
  if (!programs) return programs.error();
  std::vector<Image> images;
  for (Program& p : *programs) {
    if (args.catalog_page) place_on_catalog_page(p);
    auto options = emit_options(args, short_symbol_name(p.symbol));
    if (!options) return options.error();
    auto image = emit(p, *options);
    if (!image) return image.error();
    images.push_back(std::move(*image));
  }
  return images;
}

int verb_list(const Args& args) {
  if (args.help) return fmt::print("usage: w64stub list\n  the catalog, one line each\n"), kOk;
  for (const CatalogStub& s : catalog_stubs()) fmt::print("stub     {:<20} {}\n", s.name, s.summary);
  for (Variant v : kVariants) fmt::print("variant  {:<20} {}\n", name(v), summary(v));
  fmt::print("model    {:<20} {}\n", "go2012", "absolute 32-bit, a PE linked at 0x400000 (data 0x401000, code 0x402000)");
  fmt::print("model    {:<20} {}\n", "rip", "position-independent: data after the code, reached RIP-relative");
  fmt::print("model    {:<20} {}\n", "abs64", "the go2012 layout at 0x150001000, reached through 64-bit immediates");
  fmt::print("policy   {:<20} {}\n", "as", "GNU as / llvm-mc encodings");
  fmt::print("policy   {:<20} {}\n", "size", "shortest encodings (nasm, as -O2)");
  return kOk;
}

int verb_dump(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub dump STUB [options] [--format listing|hex|c|json|bin|image]\n{}", kStubOptions), kOk;
  auto format = parse_format(args.format.empty() ? "listing" : args.format);
  if (!format) return usage_error(format.error().message);
  auto e = emit_stub(args);
  if (!e) return usage_error(e.error().message);
  std::string out = render(*e, *format);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kOk;
}

int verb_frame(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub frame STUB|FILE.s [options] [--entry-align 8|0]\n  a Plan 9 file: every TEXT "
                      "symbol, or --symbol NAME\n{}", kStubOptions), kOk;
  auto images = !args.positional.empty() && is_plan9(args.positional[0])
                    ? emit_file(args)
                    : [&]() -> Expected<std::vector<Image>> {
                        auto e = emit_stub(args);
                        if (!e) return e.error();
                        return std::vector<Image>{std::move(*e)};
                      }();
  if (!images) return usage_error(images.error().message);
  bool ok = true;
  for (const Image& image : *images) {
    const Frame frame = analyze_frame(image, args.entry_align);
    fmt::print("{}", format_frame(image, frame));
    ok &= frame.calls_aligned() && frame.balanced;
  }
  return ok ? kOk : kFinding;
}

int verb_asm(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub asm FILE.s [-I DIR]... [--symbol NAME] [--model M] [--policy P] [--addr NAME=VALUE]\n"
                      "                  [--format listing|hex|json|bin|image]\n"
                      "  Plan 9 (Go) amd64 assembly: every TEXT symbol, or the one --symbol names\n"), kOk;
  auto format = parse_format(args.format.empty() ? "listing" : args.format);
  if (!format) return usage_error(format.error().message);
  if (*format == Format::C) return usage_error("asm writes listing, hex, json, bin or image");
  auto images = emit_file(args);
  if (!images) return usage_error(images.error().message);
  if ((*format == Format::Bin || *format == Format::Image) && images->size() != 1)
    return usage_error(fmt::format("--format {} writes one symbol: choose it with --symbol", name(*format)));
  for (const Image& image : *images) {
    if (images->size() > 1 && *format == Format::Hex) fmt::print("{}:\n", image.symbol);
    std::string out = render(image, *format);
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return kOk;
}

const char* const kRunOptions = R"(  --entry-align 8|0              RSP mod 16 at the stub's entry (default 8, the Win64 condition)
  --format text|json
  --timeout MS                   stop a stub that has not returned (default 2000)
  --relocate                     place the image anywhere instead of at its own addresses
)";

// Runs the stub natively in a child process between the probe's caller and callees, or under wine64 through
// winrun (--host wine), and checks the contract on what was observed.
Expected<ProbeReport> execute(const Args& args, Image* image) {
  if (!args.format.empty() && args.format != "text" && args.format != "json")
    return Error{fmt::format("unknown format '{}' (expected text or json)", args.format)};
  if (args.host != "native" && args.host != "wine")
    return Error{fmt::format("unknown host '{}' (expected native or wine)", args.host)};
  if (args.host == "wine" && args.entry_align != win64::kEntryResidue)
    return Error{"--host wine always enters with RSP = 8 (mod 16)"};
  auto e = emit_stub(args);
  if (!e) return e.error();
  *image = std::move(*e);
  if (args.host == "native")
    return probe(*image, {!args.live, args.entry_align, !args.relocate, std::chrono::milliseconds(args.timeout_ms)},
                 catalog_diagnoses());
  auto setup = find_wine(W64STUB_WINRUN, W64STUB_WINEPREFIX);
  if (!setup) return setup.error();
  auto runs = run_wine({image, 1}, *setup);
  if (!runs) return runs.error();
  if (!runs->front()) return runs->front().error();
  return check_contract(*image, std::move(*runs->front()), catalog_diagnoses());
}

int verb_run(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub run STUB [options]\n{}{}  --live                         write to the real "
                      "stdout/stderr instead of capturing\n  --host native|wine             run here under the "
                      "harness (default) or under wine64 through winrun\n", kStubOptions, kRunOptions), kOk;
  Image image;
  auto report = execute(args, &image);
  if (!report) return usage_error(report.error().message);
  fmt::print("{}", args.format == "json" ? format_json(image, *report) : format_run(image, *report));
  return report->conformant() && !report->any(Finding::Failure) && !report->any(Finding::Note) ? kOk : kFinding;
}

int verb_probe(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub probe STUB [options]\n  exit 0 conformant, 1 violations, 2 usage\n{}{}",
                      kStubOptions, kRunOptions), kOk;
  Image image;
  auto report = execute(args, &image);
  if (!report) return usage_error(report.error().message);
  fmt::print("{}", args.format == "json" ? format_json(image, *report) : format_probe(image, *report));
  return report->conformant() ? kOk : kFinding;
}

int verb_verify(const Args& args) {
  if (args.help)
    return fmt::print("usage: w64stub verify [STUB...] [--ref-dir DIR]\n  every variant, model and policy against "
                      "DIR/<stub>.<variant>.<model>.<policy>.hex (default {})\n", W64STUB_REF_DIR), kOk;
  std::string dir = args.ref_dir.empty() ? W64STUB_REF_DIR : args.ref_dir;
  std::vector<std::string> stubs = args.positional;
  if (stubs.empty())
    for (const CatalogStub& s : catalog_stubs()) stubs.emplace_back(s.name);
  int mismatches = 0, matches = 0, refused = 0;
  for (const std::string& stub : stubs) {
    if (auto known = catalog_program(stub, Variant::Fixed); !known) return usage_error(known.error().message);
    for (const Verdict& v : verify_stub(stub, dir)) {
      switch (v.kind) {
        case Verdict::Match: fmt::print("ok        {} ({} bytes)\n", v.stem, v.bytes), ++matches; break;
        case Verdict::Refused: fmt::print("refused   {}: {}\n", v.stem, v.detail), ++refused; break;
        case Verdict::Mismatch: fmt::print("MISMATCH  {}\n{}\n", v.stem, v.detail), ++mismatches; break;
      }
    }
  }
  fmt::print("{} match, {} mismatch, {} refused without a reference\n", matches, mismatches, refused);
  return mismatches ? kFinding : kOk;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("missing verb (w64stub --help lists them)");
  std::string verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") return fmt::print("{}", kUsageText), kOk;

  const std::vector<std::string> stub_options = {"--variant", "--model", "--policy", "--addr", "--catalog-page"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), stub_options.begin(), stub_options.end());
    return more;
  };
  struct Verb {
    const char* name;
    std::vector<std::string> options;
    int (*fn)(const Args&);
  };
  const Verb verbs[] = {
      {"list", {}, verb_list},
      {"dump", with({"--format", "--symbol", "-I"}), verb_dump},
      {"run", with({"--format", "--entry-align", "--live", "--relocate", "--timeout", "--host", "--symbol", "-I"}), verb_run},
      {"probe", with({"--format", "--entry-align", "--relocate", "--timeout", "--symbol", "-I"}), verb_probe},
      {"verify", {"--ref-dir"}, verb_verify},
      {"frame", with({"--entry-align", "--symbol", "-I"}), verb_frame},
      {"asm", {"--symbol", "-I", "--model", "--policy", "--addr", "--format", "--catalog-page"}, verb_asm},
  };
  for (const Verb& v : verbs) {
    if (verb != v.name) continue;
    auto args = cli::parse_args(argc, argv, 2, v.options);
    if (!args) return usage_error(args.error().message);
    if (verb == "list" && !args->positional.empty()) return usage_error("list takes no arguments");
    return v.fn(*args);
  }
  return usage_error(fmt::format("unknown verb '{}' (w64stub --help lists them)", verb));
}
