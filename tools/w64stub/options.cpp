#include "options.hpp"

#include <fmt/format.h>

namespace w64stub::cli {

namespace {

constexpr const char* kVersion = "w64stub " W64STUB_VERSION;
constexpr const char* kLongSymbolJumps =
    "Plan 9 files: a JMP/Jcc to another TEXT symbol keeps its rel32 form, as Go's assembler writes it (else relaxed)";

// Option groups, each added to the verbs it means something for.
void add_stub(CLI::App* verb, Options& o) {
  verb->add_option("STUB", o.stubs, "a catalog stub (w64stub list), a Plan 9 file FILE.s or an image file FILE.image")
      ->required()->expected(1);
  verb->add_option("--variant", o.variant, "catalog stubs: faithful (the 2012 text), fixed or abi")
      ->check(CLI::IsMember({"faithful", "fixed", "abi"}));
  verb->add_option("--symbol", o.symbol, "Plan 9 files: the TEXT symbol, when the file has several");
  verb->add_option("-I", o.include_dirs, "Plan 9 files: a directory #include looks in (repeatable)");
  verb->add_option("-D", o.defines, "Plan 9 files: NAME[=VALUE], a macro defined before the first line (repeatable)");
  verb->add_flag("--catalog-page", o.catalog_page,
                 "Plan 9 files: put the 2012 stubs' data symbols where the catalog has them (DESIGN.md's page)");
  verb->add_flag("--long-symbol-jumps", o.long_symbol_jumps, kLongSymbolJumps);
}

void add_layout(CLI::App* verb, Options& o) {
  verb->add_option("--model", o.model, "go2012 (absolute 32-bit), rip (position-independent) or abs64")
      ->check(CLI::IsMember({"go2012", "rip", "abs64"}));
  verb->add_option("--policy", o.policy, "as (GNU as, llvm-mc encodings) or size (nasm, as -O2)")
      ->check(CLI::IsMember({"as", "size"}));
  verb->add_option("--addr", o.addresses, "NAME=VALUE: place code, data or a symbol elsewhere (repeatable)");
}

void add_execution(CLI::App* verb, Options& o) {
  verb->add_option("--entry-rsp-mod16", o.entry_rsp_mod16,
                   "RSP mod 16 at the stub's first instruction: 8 (the Win64 condition) or 0")
      ->check(CLI::IsMember({8, 0}));
  verb->add_option("--timeout", o.timeout_ms, "milliseconds the stub may run before it is stopped")
      ->check(CLI::Range(1, 600000));
  verb->add_flag("--relocate", o.relocate, "place the image anywhere instead of at its own addresses (native)");
  verb->add_flag("--live", o.live, "also write what the stub writes to the real stdout/stderr (native)");
  verb->add_option("--host", o.host, "native (the harness, here) or wine (winrun under wine64)")
      ->check(CLI::IsMember({"native", "wine"}));
  verb->add_option("--format", o.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  verb->add_flag("--strict", o.strict, "notes count as findings for the exit status");
  verb->add_option("--signature", o.signature,
                   "the stub's arguments, e.g. a:i64,p:ptr,x:f64: each gets a canary; the report says where it went");
  verb->add_option("--import", o.imports, "NAME=SIGNATURE: declare an import's arguments (repeatable)");
  verb->add_option("--bind", o.binds, "NAME=LIB.so:SYMBOL: answer an import with a host function (native; repeatable)");
}

void add_output(CLI::App* verb, Options& o) {
  verb->add_option("-o,--output", o.output, "write to FILE instead of standard output")->type_name("FILE");
}

}  // namespace

SourceKind source_kind(const std::string& stub) {
  if (stub.ends_with(".image")) return SourceKind::ImageFile;
  if (stub.ends_with(".s") || stub == "-") return SourceKind::Plan9;
  return SourceKind::Catalog;
}

CommandLine::CommandLine() : app_("w64stub: emit, run, probe and compare Win64 stubs", "w64stub") {
  Options& o = options_;
  app_.set_version_flag("--version", kVersion);
  app_.require_subcommand(1, 1);
  app_.footer("Exit status: 0 ok, 1 a mismatch, violation or failed call (with --strict also a note), 2 usage or error.");

  app_.add_subcommand("list", "the catalog: stubs, variants, models, policies");
  CLI::App* dump = app_.add_subcommand("dump", "the emitted bytes: listing, hex, c, json, bin or an image file");
  add_stub(dump, o);
  add_layout(dump, o);
  dump->add_option("--format", o.format, "listing (default), hex, c, json, bin or image")
      ->check(CLI::IsMember({"listing", "hex", "c", "json", "bin", "image"}));
  CLI::App* assemble = app_.add_subcommand("asm", "assemble Plan 9 (Go) amd64 text: every TEXT symbol, emitted");
  assemble->add_option("FILE", o.stubs, "a Plan 9 file FILE.s, or - for standard input")->required()->expected(1);
  assemble->add_option("--symbol", o.symbol, "only this TEXT symbol");
  assemble->add_option("-I", o.include_dirs, "a directory #include looks in (repeatable)");
  assemble->add_option("-D", o.defines, "NAME[=VALUE]: a macro defined before the first line, as go tool asm's (repeatable)");
  assemble->add_flag("--keep-going", o.keep_going,
                     "emit every TEXT symbol that assembles; the errors (up to 10) to stderr, exit status 1");
  assemble->add_flag("--catalog-page", o.catalog_page,
                     "put the 2012 stubs' data symbols where the catalog has them (DESIGN.md's page)");
  assemble->add_flag("--long-symbol-jumps", o.long_symbol_jumps, kLongSymbolJumps);
  add_layout(assemble, o);
  assemble->add_option("--format", o.format, "listing (default), hex, json, bin or image")
      ->check(CLI::IsMember({"listing", "hex", "json", "bin", "image"}));
  for (const char* name : {"run", "probe"}) {
    CLI::App* verb = app_.add_subcommand(name, std::string(name) == "run"
                                                   ? "execute the stub and report what its calls received and did"
                                                   : "execute the stub under hostile callees and judge the Win64 contract");
    add_stub(verb, o);
    add_layout(verb, o);
    add_execution(verb, o);
  }
  app_.get_subcommand("probe")->add_flag(
      "--each", o.each,
      "Plan 9 files: probe every TEXT symbol, each linked with what it calls, up to 64 to a child (with --relocate; "
      "at their own addresses each needs a child of its own)");
  CLI::App* frame = app_.add_subcommand("frame", "the frame: declared and explicit parts, depth, each CALL's alignment");
  add_stub(frame, o);
  add_layout(frame, o);
  frame->add_option("--entry-rsp-mod16", o.entry_rsp_mod16, "RSP mod 16 at the stub's first instruction: 8 or 0")
      ->check(CLI::IsMember({8, 0}));
  frame->add_flag("--strict", o.strict, "notes count as findings for the exit status");
  frame->add_option("--nosplit-limit", o.nosplit_limit,
                    "Plan 9 files: check each NOSPLIT call chain against N bytes, as Go's linker does (128 in 2012)")
      ->check(CLI::NonNegativeNumber);
  frame->get_option("STUB")->description("as for dump; a Plan 9 file without --symbol: every TEXT symbol");
  CLI::App* unwind = app_.add_subcommand("unwind", "the Win64 unwind data (UNWIND_INFO) beside the prolog it describes");
  add_stub(unwind, o);
  add_layout(unwind, o);
  unwind->add_option("--format", o.format, "text (default), json or hex (the UNWIND_INFO bytes)")
      ->check(CLI::IsMember({"text", "json", "hex"}));
  CLI::App* obj = app_.add_subcommand("obj", "a COFF AMD64 object with .pdata/.xdata that mingw-w64's ld links");
  add_stub(obj, o);
  add_layout(obj, o);
  obj->get_option("STUB")->description("as for dump; a Plan 9 file without --symbol: every TEXT symbol in one object");
  obj->add_option("--names", o.object_names, "go: runtime·f becomes runtime.f (Go's linker); c: runtime_f")
      ->check(CLI::IsMember({"go", "c"}));
  obj->add_option("--package", o.package, "Plan 9 files: the package a leading · names (·f becomes P.f; else f)");
  obj->add_option("--symbol-prefix", o.symbol_prefix, "put PREFIX before every symbol name but the __imp_ imports");
  obj->add_flag("--strict", o.strict, "a function written without unwind data is an error");
  CLI::App* verify = app_.add_subcommand("verify", "every catalog variant, model and policy against the references");
  verify->add_option("STUB", o.stubs, "catalog stubs (default: all)");
  verify->add_option("--ref-dir", o.ref_dir, "the reference .hex files (default: the installed share/w64stub/ref)");
  CLI::App* help = app_.add_subcommand("help", "the options of a verb");
  help->add_option("VERB", o.help_verb, "a verb");
  for (CLI::App* verb : app_.get_subcommands({}))
    if (verb->get_name() != "help") add_output(verb, o);
}

Expected<bool> CommandLine::parse(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* verb = app_.get_subcommands().empty() ? nullptr : app_.get_subcommands().front();
    fmt::print("{}", help(verb ? verb->get_name() : ""));
    return false;
  } catch (const CLI::CallForVersion&) {
    fmt::print("{}\n", kVersion);
    return false;
  } catch (const CLI::ParseError& e) {
    return Error{e.what()};
  }
  options_.verb = app_.get_subcommands().front()->get_name();
  if (options_.verb == "help") {
    bool known = options_.help_verb.empty();
    for (const CLI::App* verb : app_.get_subcommands({})) known |= verb->get_name() == options_.help_verb;
    if (!known) return Error{fmt::format("unknown verb '{}'", options_.help_verb)};
    fmt::print("{}", help(options_.help_verb));
    return false;
  }
  return true;
}

std::string CommandLine::help(const std::string& verb) const {
  if (verb.empty() || verb == "help") return app_.get_formatter()->make_help(&app_, "", CLI::AppFormatMode::Normal);
  return app_.get_subcommand(verb)->help("w64stub");
}

bool CommandLine::given(const std::string& option) const {
  const CLI::App* verb = app_.get_subcommands().front();
  const CLI::Option* opt = verb->get_option_no_throw(option);
  return opt && opt->count() > 0;
}

Status CommandLine::check_applicable() const {
  const Options& o = options_;
  auto refuse = [](std::string what) -> Status { return Error{std::move(what)}; };
  if (o.verb == "list" || o.verb == "verify" || o.stubs.empty()) return Ok{};
  const std::string& stub = o.stubs.front();
  const SourceKind kind = o.verb == "asm" ? SourceKind::Plan9 : source_kind(stub);
  if (kind != SourceKind::Catalog && given("--variant"))
    return refuse(fmt::format("--variant applies to catalog stubs, and {} is a file", stub));
  for (const char* plan9_only : {"--symbol", "-I", "-D", "--catalog-page", "--long-symbol-jumps", "--nosplit-limit", "--package", "--each"})
    if (kind != SourceKind::Plan9 && given(plan9_only))
      return refuse(fmt::format("{} applies to Plan 9 files (FILE.s), and {} is not one", plan9_only, stub));
  for (const char* layout : {"--model", "--policy", "--addr"})
    if (kind == SourceKind::ImageFile && given(layout))
      return refuse(fmt::format("{} does not apply to an image file: {} is already laid out", layout, stub));
  for (const char* one_stub : {"--symbol", "--import", "--bind", "--signature"})
    if (o.each && given(one_stub)) return refuse(fmt::format("{} names one stub's parts, and --each probes them all", one_stub));
  if (o.host == "wine") {
    if (o.entry_rsp_mod16 != 8) return refuse("--host wine always enters with RSP = 8 (mod 16)");
    for (const char* native_only : {"--relocate", "--live", "--bind"})
      if (given(native_only)) return refuse(fmt::format("{} applies to native runs, not --host wine", native_only));
  }
  return Ok{};
}

}  // namespace w64stub::cli
