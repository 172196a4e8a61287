// The CLI as users see it: exit codes, stdout, and one clear line on stderr for bad input.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
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

TEST_CASE("cli: every verb answers --help, list lists") {
  for (const char* verb : {"list", "dump", "run", "probe", "verify", "frame", "asm"}) {
    Result r = cli({verb, "--help"});
    CHECK(r.status == 0);
    CHECK(r.out.find("usage: w64stub") == 0);
  }
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
  CHECK(cli({"frame", "badcallback", "--entry-align", "0"}).status == 0);
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
  CHECK(cli({"probe", "badsignal", "--variant", "fixed", "--entry-align", "0"}).status == 0);

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
  CHECK(whole.out.find("runtime·sigtramp:\n") != std::string::npos);
  Result one = cli({"asm", go + "/sys_windows_amd64.s", "-I" + go + "/include", "--symbol", "getg", "--format", "hex"});
  CHECK(one.out == w64stub::test::slurp(std::string(W64STUB_REF_DIR) + "/plan9/sys_windows_amd64.getg.hex"));
  Result frames = cli({"frame", go + "/badcallback-prefix.s"});
  CHECK(frames.status == 1);  // misaligned CALLs
  CHECK(frames.out.find("declared frame        48") != std::string::npos);
  Result probed = cli({"probe", go + "/badsignal.s", "--entry-align", "0"});
  CHECK(probed.status == 0);
  Result no_include = cli({"asm", go + "/sys_windows_amd64.s"});
  CHECK(no_include.status == 2);
  CHECK(no_include.err.find("cannot find include file \"zasm_windows_amd64.h\"") != std::string::npos);
  Result many = cli({"asm", go + "/sys_windows_amd64.s", "-I", go + "/include", "--format", "bin"});
  CHECK(many.status == 2);
  CHECK(many.err == "w64stub: --format bin writes one symbol: choose it with --symbol\n");
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
      {"run", "badcallback", "--entry-align", "4"},
      {"run", "badcallback", "--format", "hex"},
      {"run", "badcallback", "--timeout", "0"},
      {"probe"},
      {"run", "badcallback", "--host", "mars"},
      {"run", "badcallback", "--host", "wine", "--entry-align", "0"},
      {"probe", "badcallback", "--host", "wine"},
      {"probe", "badcallback", "--timeout", "soon"},
      {"probe", "badcallback", "--live"},
      {"list", "extra"},
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
