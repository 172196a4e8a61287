// The CLI as users see it: exit codes, stdout, and one clear line on stderr for bad input.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../src/testing/test_support.hpp"

extern char** environ;

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

Result cli(std::vector<std::string> args) {
  args.insert(args.begin(), W64STUB_CLI);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string out_path = fmt::format("/tmp/w64stub-cli-{}.out", getpid());
  std::string err_path = fmt::format("/tmp/w64stub-cli-{}.err", getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  Result r;
  REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream o(out_path), e(err_path);
  std::stringstream so, se;
  so << o.rdbuf();
  se << e.rdbuf();
  r.out = so.str();
  r.err = se.str();
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return r;
}

}  // namespace

TEST_CASE("cli: dump --format hex equals GNU as on DESIGN.md's source and layout") {
  Result r = cli({"dump", "badcallback", "--model", "go2012", "--format", "hex"});
  CHECK(r.status == 0);
  CHECK(r.out == w64stub::test::slurp(std::string(W64STUB_REF_DIR) + "/badcallback.faithful.go2012.as.hex"));
  Result s = cli({"dump", "badsignal", "--variant=abi", "--model=rip", "--policy=size", "--format=hex"});
  CHECK(s.out == w64stub::test::slurp(std::string(W64STUB_REF_DIR) + "/badsignal.abi.rip.size.hex"));
}

// The options a verb's help lists: every "-x" or "--name" that starts an entry.
std::set<std::string> listed_options(const std::string& help) {
  std::set<std::string> out;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("  -")) continue;
    std::string names = line.substr(2, line.find(' ', 2) - 2);  // "-o,--output"
    std::istringstream parts(names);
    for (std::string n; std::getline(parts, n, ',');) out.insert(n);
  }
  return out;
}

TEST_CASE("cli: every verb's --help lists exactly the options it accepts, list lists") {
  const std::set<std::string> common = {"-h", "--help", "-o", "--output"};
  const std::set<std::string> stub = {"--variant", "--symbol", "-I", "-D", "--catalog-page", "--long-symbol-jumps",
                                      "--model", "--policy", "--addr"};
  const std::set<std::string> exec = {"--entry-rsp-mod16", "--timeout", "--relocate", "--live", "--host", "--format",
                                      "--strict", "--signature", "--import", "--bind"};
  auto with = [&](std::initializer_list<std::set<std::string>> parts) {
    std::set<std::string> all = common;
    for (const auto& p : parts) all.insert(p.begin(), p.end());
    return all;
  };
  const std::map<std::string, std::set<std::string>> verbs = {
      {"list", common},
      {"dump", with({stub, {"--format"}})},
      {"asm", with({{"--symbol", "-I", "-D", "--catalog-page", "--long-symbol-jumps", "--keep-going", "--model", "--policy", "--addr", "--format"}})},
      {"run", with({stub, exec})},
      {"probe", with({stub, exec, {"--each"}})},
      {"frame", with({stub, {"--entry-rsp-mod16", "--strict", "--nosplit-limit"}})},
      {"verify", with({{"--ref-dir"}})},
      {"unwind", with({stub, {"--format"}})},
      {"obj", with({stub, {"--names", "--package", "--symbol-prefix", "--strict"}})},
  };
  for (const auto& entry : verbs) {  // no structured bindings: clang 14 cannot capture them in CAPTURE
    const std::string& verb = entry.first;
    const std::set<std::string>& options = entry.second;
    CAPTURE(verb);
    Result r = cli({verb, "--help"});
    CHECK(r.status == 0);
    CHECK(r.out.find(fmt::format("Usage: w64stub {} [OPTIONS]", verb)) != std::string::npos);
    CHECK(listed_options(r.out) == options);
    CHECK(cli({"help", verb}).out == r.out);  // w64stub help VERB
    Result unknown = cli({verb, "--bogus"});
    CHECK(unknown.status == 2);
    CHECK(unknown.err.find("w64stub: ") == 0);
    CHECK(std::count(unknown.err.begin(), unknown.err.end(), '\n') == 1);
  }
  CHECK(cli({"--version"}).out == "w64stub 0.2.0\n");
  CHECK(cli({"help"}).out.find("Subcommands:") != std::string::npos);
  Result list = cli({"list"});
  CHECK(list.status == 0);
  CHECK(list.out.find("stub     badcallback-prefix") != std::string::npos);
  CHECK(list.out.find("policy   size") != std::string::npos);
}

TEST_CASE("cli: verify, run and frame exit codes") {
  Result verify = cli({"verify"});
  CHECK(verify.status == 0);
  CHECK(verify.out.find("48 match, 0 mismatch, 6 refused without a reference") != std::string::npos);
  CHECK(cli({"run", "badsignal", "--variant", "abi"}).status == 0);
  Result faithful = cli({"run", "badcallback"});
  CHECK(faithful.status == 1);
  CHECK(faithful.out.find("GetLastError 1784") != std::string::npos);
  Result frame = cli({"frame", "badcallback-prefix"});
  CHECK(frame.status == 1);
  CHECK(frame.out.find("declared frame        48") != std::string::npos);
  CHECK(cli({"frame", "badcallback", "--entry-rsp-mod16", "0"}).status == 0);
  CHECK(cli({"dump", "badcallback", "--format", "json"}).out.find("\"relocations\"") != std::string::npos);
}

TEST_CASE("cli: probe is exit 0 when conformant, 1 with violations") {
  Result abi = cli({"probe", "badsignal", "--variant", "abi", "--model", "rip"});
  CHECK(abi.status == 0);
  CHECK(abi.out.find("  conformant\n") != std::string::npos);
  Result fixed = cli({"probe", "badsignal", "--variant", "fixed", "--format", "json"});
  CHECK(fixed.status == 1);
  CHECK(fixed.out.find("\"conformant\": false") != std::string::npos);
  CHECK(fixed.out.find("\"rule\": \"call-alignment\"") != std::string::npos);
  CHECK(cli({"probe", "badsignal", "--variant", "fixed", "--entry-rsp-mod16", "0"}).status == 0);

  // An image file written by dump is probed the same way, its instructions recovered by decoding.
  const std::string path = fmt::format("/tmp/w64stub-cli-{}.image", getpid());
  std::ofstream(path) << cli({"dump", "badsignal", "--variant", "fixed", "--format", "image"}).out;
  Result file = cli({"probe", path});
  CHECK(file.status == 1);
  CHECK(file.out.find("at +0x5b: call rax") != std::string::npos);
  std::ofstream(path) << "w64stub-image 1\nmodel z80\n";
  Result bad = cli({"probe", path});
  CHECK(bad.status == 2);
  CHECK(bad.err == fmt::format("w64stub: {}:2: bad model in model\n", path));
  std::remove(path.c_str());
}

TEST_CASE("cli: asm and frame on Plan 9 files") {
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  Result hex = cli({"asm", go + "/badcallback.s", "--catalog-page", "--format", "hex"});
  CHECK(hex.status == 0);
  CHECK(hex.out == w64stub::test::slurp(w64stub::test::ref_path("badcallback.faithful.go2012.as")));
  Result whole = cli({"asm", go + "/sys_windows_amd64.s", "-I", go + "/include", "--format", "hex"});
  CHECK(whole.status == 0);
  CHECK(whole.out.find("# runtime·sigtramp\n") != std::string::npos);
  Result one = cli({"asm", go + "/sys_windows_amd64.s", "-I" + go + "/include", "--symbol", "getg", "--format", "hex"});
  CHECK(one.out == w64stub::test::slurp(std::string(W64STUB_REF_DIR) + "/plan9/sys_windows_amd64.getg.hex"));
  // The seed's story: the pre-fix text charges its declared 48 bytes to the NOSPLIT reserve, the fix none.
  Result prefix = cli({"frame", go + "/badcallback-prefix.s", "--nosplit-limit", "128"});
  CHECK(prefix.status == 0);
  CHECK(prefix.out.starts_with("ok        56 bytes  runtime·badcallback\n"));
  Result fixed = cli({"frame", go + "/badcallback.s", "--nosplit-limit", "128"});
  CHECK(fixed.out.starts_with("ok         8 bytes  runtime·badcallback\n"));
  Result tight = cli({"frame", go + "/badcallback-prefix.s", "--nosplit-limit", "48"});
  CHECK(tight.status == 1);
  CHECK(tight.out.starts_with("OVER      56 bytes"));
  Result frames = cli({"frame", go + "/badcallback-prefix.s"});
  CHECK(frames.status == 1);  // misaligned CALLs
  CHECK(frames.out.find("declared frame        48") != std::string::npos);
  Result probed = cli({"probe", go + "/badsignal.s", "--entry-rsp-mod16", "0"});
  CHECK(probed.status == 1);  // conformant, but the 2012 text's WriteFile fails
  CHECK(probed.out.find("  conformant\n") != std::string::npos);
  Result no_include = cli({"asm", go + "/sys_windows_amd64.s"});
  CHECK(no_include.status == 2);
  CHECK(no_include.err.find("cannot find include file \"zasm_windows_amd64.h\"") != std::string::npos);
}

// frame FILE: each function's own frame. Its callees are not linked in: a chain of calls through a file made
// each of N images hold the rest of the chain (10,000 symbols ran out of memory).
TEST_CASE("cli: frame of a file of 2,000 chained functions: each report covers its own function") {
  const std::string path = fmt::format("/tmp/w64stub-chain-{}.s", getpid());
  {
    std::ofstream out(path);
    for (int k = 0; k < 2000; ++k) out << fmt::format("TEXT ·f{}(SB),7,$40\n\tCALL ·f{}(SB)\n\tRET\n", k, (k + 1) % 2000);
  }
  Result r = cli({"frame", path});
  std::remove(path.c_str());
  CHECK(r.status == 0);  // each CALL aligned: $40 plus the return address is 48
  size_t reports = 0, epilogs = 0;
  for (size_t at = r.out.find("\n·f"); at != std::string::npos; at = r.out.find("\n·f", at + 1)) ++reports;
  for (size_t at = r.out.find(" ret "); at != std::string::npos; at = r.out.find(" ret ", at + 1)) ++epilogs;
  CHECK(r.out.starts_with("·f0 (·f0)\n"));
  CHECK(reports + 1 == 2000);
  CHECK(epilogs == 2000);  // one RET per report: no report shows its callees' code
}

TEST_CASE("cli: a mismatching reference is exit 1 with a diff") {
  std::string dir = fmt::format("/tmp/w64stub-refs-{}", getpid());
  REQUIRE(system(fmt::format("rm -rf {0} && cp -r {1} {0}", dir, W64STUB_REF_DIR).c_str()) == 0);
  std::ofstream(dir + "/badsignal.fixed.go2012.as.hex") << "48 83 ec 30 90\n";
  Result r = cli({"verify", "badsignal", "--ref-dir", dir});
  CHECK(r.status == 1);
  CHECK(r.out.find("MISMATCH  badsignal.fixed.go2012.as") != std::string::npos);
  CHECK(r.out.find("15 match, 1 mismatch") != std::string::npos);
  CHECK(system(fmt::format("rm -rf {}", dir).c_str()) == 0);
}

TEST_CASE("cli: probe --each probes every TEXT symbol of a file, each report as probe of that symbol gives it") {
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  const std::string file = go + "/sys_windows_amd64.s", include = go + "/include";
  Result symbols = cli({"asm", file, "-I", include, "--model", "rip", "--format", "json"});
  REQUIRE(symbols.status == 0);
  const auto linked = nlohmann::json::parse(symbols.out);
  std::vector<std::string> functions;
  for (const auto& symbol : linked["symbols"])
    if (symbol["kind"] == "code") functions.push_back(symbol["name"]);
  Result each = cli({"probe", file, "-I", include, "--model", "rip", "--each", "--relocate", "--format", "json"});
  CHECK(each.status == 1);  // the runtime's stubs reach for the TLS through GS, which faults here
  const auto reports = nlohmann::json::parse(each.out);
  REQUIRE(reports.is_array());
  REQUIRE(reports.size() == functions.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    const std::string& symbol = functions[i];
    CAPTURE(symbol);
    CHECK(reports[i]["symbol"] == symbol);
    Result alone = cli({"probe", file, "-I", include, "--model", "rip", "--symbol", symbol, "--relocate", "--format", "json"});
    const auto one = nlohmann::json::parse(alone.out);
    CHECK(reports[i]["violations"].size() == one["violations"].size());
    for (size_t v = 0; v < one["violations"].size(); ++v) CHECK(reports[i]["violations"][v]["rule"] == one["violations"][v]["rule"]);
  }
  // One symbol: the text probe gives, but for the stack's addresses, which vary from run to run.
  const std::regex stack_address("0x7ff[0-9a-f]{9}");
  Result text = cli({"probe", go + "/badsignal.s", "--each", "--entry-rsp-mod16", "0"});
  CHECK(std::regex_replace(text.out, stack_address, "STACK") ==
        std::regex_replace(cli({"probe", go + "/badsignal.s", "--entry-rsp-mod16", "0"}).out, stack_address, "STACK"));
  CHECK(text.status == 1);
}

TEST_CASE("cli: bad input is one line on stderr and exit 2") {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"explode"},
      {"dump"},
      {"dump", "badcalback"},
      {"dump", "badcallback", "--variant", "broken"},
      {"dump", "badcallback", "--model", "rip64"},
      {"dump", "badcallback", "--policy", "tiny"},
      {"dump", "badcallback", "--format", "xml"},
      {"dump", "badcallback", "--addr", "WriteFile"},
      {"dump", "badcallback", "--addr", "WriteFile=0xzz"},
      {"dump", "badcallback", "--addr", "WriteFile=0x80000000"},
      {"dump", "badcallback", "--addr", "ReadFile=0x401000"},
      {"dump", "badcallback", "--model", "abs64"},
      {"dump", "badcallback", "--bogus"},
      {"dump", "badcallback", "--model"},
      {"run", "badcallback", "--entry-rsp-mod16", "4"},
      {"run", "badcallback", "--format", "hex"},
      {"run", "badcallback", "--timeout", "0"},
      {"probe"},
      {"run", "badcallback", "--host", "mars"},
      {"run", "badcallback", "--host", "wine", "--entry-rsp-mod16", "0"},
      {"probe", "badcallback", "--timeout", "soon"},
      {"list", "extra"},
      {"help", "explode"},
  };
  for (const auto& args : bad) {
    Result r = cli(args);
    CAPTURE(fmt::format("{}", fmt::join(args, " ")));
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("w64stub") == 0);
  }
  Result high = cli({"dump", "badcallback", "--addr", "WriteFile=0x80000000"});
  CHECK(high.err == "w64stub: badcallback:1:1: go2012 model: runtime·WriteFile at 0x80000000 is out of reach "
                    "(every byte must lie below 0x80000000: a sign-extended 32-bit displacement)\n");
}

TEST_CASE("cli: an option a verb cannot honour for its STUB is refused, each with its reason") {
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  const std::string image = fmt::format("/tmp/w64stub-cli-refuse-{}.image", getpid());
  std::ofstream(image) << cli({"dump", "badsignal", "--format", "image"}).out;
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"dump", go + "/badsignal.s", "--variant", "abi"}, "--variant applies to catalog stubs, and " + go + "/badsignal.s is a file"},
      {{"run", image, "--variant", "fixed"}, "--variant applies to catalog stubs, and " + image + " is a file"},
      {{"dump", "badsignal", "--symbol", "x"}, "--symbol applies to Plan 9 files (FILE.s), and badsignal is not one"},
      {{"frame", "badsignal", "-I", "/tmp"}, "-I applies to Plan 9 files (FILE.s), and badsignal is not one"},
      {{"probe", image, "--catalog-page"}, "--catalog-page applies to Plan 9 files (FILE.s), and " + image + " is not one"},
      {{"dump", image, "--model", "rip"}, "--model does not apply to an image file: " + image + " is already laid out"},
      {{"frame", image, "--policy", "size"}, "--policy does not apply to an image file: " + image + " is already laid out"},
      {{"run", image, "--addr", "code=0x1000"}, "--addr does not apply to an image file: " + image + " is already laid out"},
      {{"run", "badsignal", "--host", "wine", "--entry-rsp-mod16", "0"}, "--host wine always enters with RSP = 8 (mod 16)"},
      {{"probe", "badsignal", "--host", "wine", "--relocate"}, "--relocate applies to native runs, not --host wine"},
      {{"probe", "badsignal", "--each"}, "--each applies to Plan 9 files (FILE.s), and badsignal is not one"},
      {{"probe", go + "/badsignal.s", "--each", "--symbol", "badsignal"}, "--symbol names one stub's parts, and --each probes them all"},
      {{"run", "badsignal", "--host", "wine", "--live"}, "--live applies to native runs, not --host wine"},
      {{"dump", "badsignal", "--model", "rip", "--addr", "data=0x1000"},
       "badsignal:1:1: --addr data: the rip model places data right after the code; only 'code' can be set"},
  };
  for (const auto& c : cases) {
    const std::vector<std::string>& args = c.first;
    const std::string& message = c.second;
    CAPTURE(fmt::format("{}", fmt::join(args, " ")));
    Result r = cli(args);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "w64stub: " + message + "\n");
  }
  std::remove(image.c_str());
}

TEST_CASE("cli: -o writes the file and nothing to standard output") {
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  const std::string path = fmt::format("/tmp/w64stub-cli-out-{}", getpid());
  const std::vector<std::vector<std::string>> runs = {
      {"list"}, {"dump", "badsignal", "--format", "hex"}, {"asm", go + "/badsignal.s"}, {"run", "badsignal"},
      {"probe", "badsignal", "--variant", "abi"}, {"frame", "badsignal"}, {"verify", "badsignal"}};
  for (const auto& args : runs) {
    CAPTURE(fmt::format("{}", fmt::join(args, " ")));
    Result to_stdout = cli(args);
    std::vector<std::string> with_o = args;
    with_o.insert(with_o.end(), {"-o", path});
    Result to_file = cli(with_o);
    CHECK(to_file.status == to_stdout.status);
    CHECK(to_file.out.empty());
    CHECK_FALSE(w64stub::test::slurp(path).empty());
    if (args[0] != "run" && args[0] != "probe") CHECK(w64stub::test::slurp(path) == to_stdout.out);  // runs vary in addresses
    std::remove(path.c_str());
  }
  Result nowhere = cli({"list", "-o", "/nonexistent/dir/x"});
  CHECK(nowhere.status == 2);
  CHECK(nowhere.err == "w64stub: cannot write /nonexistent/dir/x\n");
}

TEST_CASE("cli: frame of an image file equals frame of the stub it came from, and dump claims no linker code") {
  const std::string path = fmt::format("/tmp/w64stub-cli-frame-{}.image", getpid());
  for (const char* stub : {"badcallback", "badcallback-prefix", "badsignal"}) {
    CAPTURE(stub);
    std::ofstream(path) << cli({"dump", stub, "--variant", "abi", "--format", "image"}).out;
    Result from_stub = cli({"frame", stub, "--variant", "abi"}), from_file = cli({"frame", path});
    CHECK(from_file.status == from_stub.status);
    // The same facts; the file only lacks each call's source line, "  (badcallback:6 CALL AX)".
    std::string facts = from_stub.out;
    for (size_t at; (at = facts.find("aligned  (")) != std::string::npos;)
      facts.erase(at + 7, facts.find(')', at) + 1 - at - 7);
    CHECK(from_file.out == facts);
    Result listing = cli({"dump", path});
    CHECK(listing.status == 0);
    CHECK(listing.out.find("linker") == std::string::npos);
  }
  CHECK(cli({"dump", "badsignal"}).out.find("(linker: $48 frame)") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("cli: unwind shows the codes beside the prolog, the bytes GNU as writes, and refuses what it cannot describe") {
  Result text = cli({"unwind", "badsignal", "--variant", "abi"});
  CHECK(text.status == 0);
  CHECK(text.out.find("  0000  sub rsp, 0x38                         ALLOC_SMALL 0x38\n") != std::string::npos);
  Result hex = cli({"unwind", "badsignal", "--variant", "abi", "--format", "hex"});
  CHECK(hex.out == w64stub::test::slurp(w64stub::test::ref_path("unwind/stub56.xdata")));
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  Result refused = cli({"unwind", go + "/sys_windows_amd64.s", "-I", go + "/include", "--symbol", "sigtramp"});
  CHECK(refused.status == 2);
  CHECK(refused.err.find("sys_windows_amd64.s:230:2 (+0xe sub rsp, 0x38): RSP changes after the prolog") != std::string::npos);
}

TEST_CASE("cli: notes do not change the exit status, --strict makes them count") {
  // A Plan 9 stub whose only import has no stand-in: a note, not a violation or a failed call.
  const std::string path = fmt::format("/tmp/w64stub-cli-note-{}.s", getpid());
  std::ofstream(path) << "#pragma dynimport ext·Sleep Sleep \"kernel32.dll\"\n"
                         "TEXT ·f(SB),7,$40\n\tMOVQ\text·Sleep(SB), AX\n\tCALL\tAX\n\tRET\n";
  Result plain = cli({"run", path});
  CHECK(plain.status == 0);
  CHECK(plain.out.find("note: no stand-in for kernel32.dll!Sleep: it returned 0") != std::string::npos);
  CHECK(cli({"run", path, "--strict"}).status == 1);
  CHECK(cli({"probe", path, "--strict"}).status == 1);
  CHECK(cli({"probe", path}).status == 0);
  std::remove(path.c_str());
}

TEST_CASE("cli: a whole file runs linked, and a function of another file is an external the probe calls like an import") {
  const std::string path = fmt::format("/tmp/w64stub-cli-external-{}.s", getpid());
  std::ofstream(path) << "DATA ·k+0(SB)/8, $7\nGLOBL ·k(SB), $8\n"
                         "TEXT ·f(SB),7,$40\n\tMOVQ\t·k(SB), DX\n\tMOVQ\t$-5, CX\n\tCALL\t·g(SB)\n\tCALL\tother·labs(SB)\n\tRET\n"
                         "TEXT ·g(SB),7,$0\n\tMOVQ\tCX, AX\n\tRET\n"
                         "TEXT ·h(SB),7,$0\n\tMOVQ\t$other·labs(SB), AX\n\tRET\n";
  // ·g is in the file: resolved in place, not a callee; other·labs is external; ·k is data, read as such.
  Result unbound = cli({"probe", path, "--symbol", "f"});
  CHECK(unbound.status == 0);
  CHECK(unbound.out.find("no stand-in for external other·labs: it returned 0") != std::string::npos);
  CHECK(unbound.out.find("·g") == std::string::npos);
  Result bound = cli({"run", path, "--symbol", "f", "--import", "labs=x:i64->i64", "--bind", "labs=libc.so.6:labs"});
  CHECK(bound.status == 0);
  CHECK(bound.out.find("RSP = 0 (mod 16) at the CALL\n    x=-5\n    ->  5\n") != std::string::npos);
  Result data = cli({"run", path, "--symbol", "h"});
  CHECK(data.status == 2);
  CHECK(data.err.find("other·labs is external and not called") != std::string::npos);
  Result listed = cli({"asm", path, "--format", "hex"});
  CHECK(listed.out.find("# ·f\n") == 0);
  CHECK(listed.out.find("# ·h\n") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("cli: --import declares an import, --bind answers it with a host function, --signature passes canaries") {
  const std::string path = fmt::format("/tmp/w64stub-cli-bind-{}.s", getpid());
  std::ofstream(path) << "#pragma dynimport ext·labs labs \"msvcrt.dll\"\n"
                         "TEXT ·f(SB),7,$40\n\tMOVQ\t$-5, CX\n\tMOVQ\text·labs(SB), AX\n\tCALL\tAX\n\tRET\n";
  Result bound = cli({"run", path, "--import", "labs=x:i64->i64", "--bind", "labs=libc.so.6:labs"});
  CHECK(bound.status == 0);
  CHECK(bound.out.find("labs at +0x13: RSP = 0 (mod 16) at the CALL\n    x=-5\n    ->  5\n") != std::string::npos);
  CHECK(bound.out.find("returned RAX = 0x5") != std::string::npos);
  Result passed = cli({"run", path, "--signature", "y:i64,z:i64", "--import", "labs=x:i64->i64"});
  CHECK(passed.out.find("no stand-in for msvcrt.dll!labs") != std::string::npos);
  const std::pair<std::vector<std::string>, std::string> refused[] = {
      {{"run", path, "--bind", "labs=nolib.so:labs"}, "--bind labs=nolib.so:labs: nolib.so: cannot open shared object file: No such file or directory"},
      {{"run", path, "--bind", "sqrt=libm.so.6:sqrt"}, "--bind sqrt=libm.so.6:sqrt: ·f has no import or external sqrt"},
      {{"run", path, "--import", "labs=x:int"}, "--import labs=x:int: unknown type 'int' in signature 'x:int' (expected i32, u32, i64, u64, ptr, out32, bool, f32, f64 or, for a result, void)"},
      {{"run", path, "--signature", "q"}, "--signature: unknown type 'q' in signature 'q' (expected i32, u32, i64, u64, ptr, out32, bool, f32, f64 or, for a result, void)"},
      {{"run", path, "--host", "wine", "--bind", "labs=libc.so.6:labs"}, "--bind applies to native runs, not --host wine"},
  };
  for (const auto& c : refused) {
    CAPTURE(c.second);
    Result r = cli(c.first);
    CHECK(r.status == 2);
    CHECK(r.err == "w64stub: " + c.second + "\n");
  }
  std::remove(path.c_str());
}

// The symbols of an object as mingw-w64's nm lists them: "T runtime.badcallback", "U __imp_WriteFile"; empty
// unless ld reads the object too (ld -r: a relocatable link, which leaves the undefined symbols undefined).
std::set<std::string> object_symbols(const std::string& path) {
  std::set<std::string> out;
  if (std::system(fmt::format("x86_64-w64-mingw32-ld -r -o {0}.ld {0} && rm {0}.ld", path).c_str()) != 0) return out;
  std::istringstream lines(w64stub::test::output_of(fmt::format("x86_64-w64-mingw32-nm {}", path)));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    if (f.size() >= 2 && f.back()[0] != '.') out.insert(f[f.size() - 2] + " " + f.back());  // not a section symbol
  }
  return out;
}

TEST_CASE("cli: obj writes a COFF object - Go or C names, a prefix, a note for each function without unwind data") {
  const std::string path = fmt::format("/tmp/w64stub-cli-{}.obj", getpid());
  REQUIRE(cli({"obj", "badcallback", "--variant", "abi", "--model", "rip", "-o", path}).status == 0);
  CHECK(object_symbols(path) == std::set<std::string>{"T runtime.badcallback", "D runtime.badcallbacklen",
                                                      "D runtime.badcallbackmsg", "U __imp_GetStdHandle", "U __imp_WriteFile"});
  REQUIRE(cli({"obj", "badsignal", "--names", "c", "--symbol-prefix", "go_", "-o", path}).status == 0);
  CHECK(object_symbols(path) == std::set<std::string>{"T go_runtime_badsignal", "D go_runtime_badsignallen",
                                                      "D go_runtime_badsignalmsg", "U __imp_GetStdHandle", "U __imp_WriteFile"});
  const std::string go = std::string(W64STUB_REF_DIR) + "/../go";
  Result whole = cli({"obj", go + "/sys_windows_amd64.s", "-I", go + "/include", "--model", "abs64", "-o", path});
  CHECK(whole.status == 0);
  CHECK(std::count(whole.err.begin(), whole.err.end(), '\n') == 5);  // one note per function
  CHECK(whole.err.find("note: no unwind data: runtime·sigtramp: " + go + "/sys_windows_amd64.s:230:2") != std::string::npos);
  const std::set<std::string> symbols = object_symbols(path);
  CHECK(symbols.count("T runtime.asmstdcall") == 1);
  CHECK(symbols.count("T runtime.sigtramp") == 1);
  CHECK(symbols.count("U __imp_NtWaitForSingleObject") == 1);
  Result strict = cli({"obj", go + "/sys_windows_amd64.s", "-I", go + "/include", "--strict", "-o", path});
  CHECK(strict.status == 2);
  CHECK(strict.err.find("runtime·asmstdcall") != std::string::npos);
  const std::string local = fmt::format("/tmp/w64stub-cli-{}.s", getpid());  // ·f: the file's own package
  std::ofstream(local) << "TEXT ·f(SB),7,$0\n\tCALL ·g(SB)\n\tRET\n";
  REQUIRE(cli({"obj", local, "-o", path}).status == 0);
  CHECK(object_symbols(path) == std::set<std::string>{"T f", "U g"});
  REQUIRE(cli({"obj", local, "--package", "main", "-o", path}).status == 0);
  CHECK(object_symbols(path) == std::set<std::string>{"T main.f", "U main.g"});
  REQUIRE(cli({"obj", local, "--package", "main", "--names", "c", "-o", path}).status == 0);
  CHECK(object_symbols(path) == std::set<std::string>{"T main_f", "U main_g"});
  std::remove(local.c_str());
  const std::string image = fmt::format("/tmp/w64stub-cli-{}.image", getpid());
  std::ofstream(image) << cli({"dump", "badsignal", "--variant", "fixed", "--format", "image"}).out;
  CHECK(cli({"obj", image, "-o", path}).status == 0);
  CHECK(cli({"obj", image, "--package", "main", "-o", path}).status == 2);  // a Plan 9 file's option
  CHECK(object_symbols(path).count("T runtime.badsignal") == 1);
  std::remove(image.c_str());
  std::remove(path.c_str());
}
