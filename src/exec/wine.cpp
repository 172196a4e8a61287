#include "w64stub/exec/wine.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "w64stub/core/imagefile.hpp"
#include "w64stub/core/install.hpp"
#include "w64stub/exec/standins.hpp"

extern char** environ;

namespace w64stub {

namespace fs = std::filesystem;

namespace {

constexpr char kMark = '\x1e';  // winrun --mark: "\x1e" "begin N\n" before image N (reports go to --report FILE)

bool executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Per image index: what was written after winrun's "\x1e" "begin N\n" marker for it, up to the next one. Only
// the marker winrun writes next (N counts up) ends a stretch, so a stub's own \x1e bytes stay its output.
std::map<size_t, std::string> split_marked(const std::string& stream) {
  std::map<size_t, std::string> out;
  auto marker = [](size_t n) { return fmt::format("{}begin {}\n", kMark, n); };
  size_t at = stream.find(marker(0));
  for (size_t n = 0; at != std::string::npos; ++n) {
    const size_t begin = at + marker(n).size();
    at = stream.find(marker(n + 1), begin);
    out[n] = stream.substr(begin, (at == std::string::npos ? stream.size() : at) - begin);
  }
  return out;
}

// winrun's report file: a line per image, "N {json}"; a line that is not one is not a report.
std::map<size_t, std::string> reports(const std::string& file) {
  std::map<size_t, std::string> out;
  std::istringstream lines(file);
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.find(' ');
    if (space == 0 || space == std::string::npos ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(space), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      continue;
    out.emplace(std::stoul(line.substr(0, std::min<size_t>(space, 9))), line.substr(space + 1));
  }
  return out;
}

// Numbers in a report are exact integers: a value nlohmann read as a float (out of range) or of another type
// is a malformed report, not a value to convert.
uint64_t u64(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  throw std::invalid_argument("expected an unsigned integer, got " + j.dump());
}
int64_t i64(const nlohmann::json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned() && j.get<uint64_t>() <= INT64_MAX) return static_cast<int64_t>(j.get<uint64_t>());
  throw std::invalid_argument("expected an integer, got " + j.dump());
}

// A 32-bit result (BOOL, DWORD) is the low half of RAX; the rest is whatever the callee left there.
uint64_t result_value(win64::ValueType type, uint64_t rax) {
  const bool narrow = type == win64::ValueType::Bool || type == win64::ValueType::U32 || type == win64::ValueType::I32;
  return narrow ? static_cast<uint32_t>(rax) : rax;
}

CallRecord call_record(const Image& image, const RunReport& r, const nlohmann::json& call) {
  CallRecord c;
  c.function = call.at("function").get<std::string>();
  c.dll = call.at("dll").get<std::string>();
  c.answered = true;  // by the real function
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Import && s.function == c.function) c.signature = signature_of(s, builtin_standins());
  const auto& args = call.at("args");
  for (size_t i = 0; i < args.size() && i < 8; ++i) (i < 4 ? c.args[i] : c.stack_args[i - 4]) = u64(args[i]);
  c.entry_rsp = u64(call.at("entry_rsp"));
  c.return_address = u64(call.at("return_address"));
  c.call_residue = static_cast<int>((c.entry_rsp + 8) % 16);
  if (c.return_address > r.text_address && c.return_address <= r.text_address + image.code_size)
    if (const InstrInfo* at = image.instr_ending_at(static_cast<uint32_t>(c.return_address - r.text_address)))
      c.call_offset = at->offset;
  c.result = result_value(c.signature.result, u64(call.at("result")));
  c.last_error = static_cast<uint32_t>(u64(call.at("last_error")));
  for (const auto& out : call.value("out", nlohmann::json::array()))
    if (const uint64_t index = u64(out.at(0)); index < static_cast<uint64_t>(c.signature.count()))
      c.out_values.emplace_back(static_cast<int>(index), i64(out.at(1)));
  return c;
}

// A Windows exception in the stub (winrun ended its thread) as the signal Linux would have raised, with RIP
// where Linux reports it: after an INT3, not at it.
void read_exception(const Image& image, const nlohmann::json& e, RunReport& r) {
  const auto code = static_cast<uint32_t>(u64(e.at("code")));
  r.ending = Ending::Faulted;
  r.fault.code = static_cast<int>(code);
  r.fault.signal = code == 0x80000003 ? SIGTRAP
                   : code == 0xC000001D || code == 0xC0000096 ? SIGILL
                   : code == 0xC0000094 || code == 0xC0000095 || (code >= 0xC000008D && code <= 0xC0000093) ? SIGFPE
                   : code == 0xC0000005 || code == 0xC00000FD ? SIGSEGV : SIGABRT;
  r.fault.rip = u64(e.at("rip")) + (code == 0x80000003 ? 1 : 0);
  r.fault.address = u64(e.at("address"));
  if (r.fault.rip >= r.text_address && r.fault.rip - r.text_address < image.code_size)
    r.fault.offset = static_cast<int64_t>(r.fault.rip - r.text_address);
}

// What winrun's guard saw of the nonvolatile GPs (in kNonvolatileGps' order) and RFLAGS after the return,
// in the native report's terms: a register given back unchanged reads as the canary the native harness gives.
void read_after(const nlohmann::json& after, RunReport& r) {
  const auto& before = after.at("before");
  const auto& gp = after.at("gp");
  if (before.size() != r.after.gp.size() || gp.size() != r.after.gp.size()) throw nlohmann::json::other_error::create(0, "after: 8 registers", nullptr);
  const Nonvolatiles canary = canaries();
  for (size_t i = 0; i < r.after.gp.size(); ++i) r.after.gp[i] = u64(gp[i]) == u64(before[i]) ? canary.gp[i] : u64(gp[i]);
  r.after.xmm = canary.xmm;
  r.after.mxcsr = canary.mxcsr;
  r.rflags_after = u64(after.at("rflags"));
  r.gp_and_flags_only = true;
}

}  // namespace

Expected<RunReport> read_winrun_report(const Image& image, std::string_view text, std::string out, std::string err) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.contains("error")) return Error{fmt::format("{}: winrun: {}", image.stub, j["error"].get<std::string>())};
    RunReport r;
    r.host = Host::Wine;
    r.text_address = u64(j.at("text_address"));
    r.data_address = u64(j.at("data_address"));
    r.at_image_addresses = j.at("at_image_addresses").get<bool>();
    r.entry_residue = win64::kEntryResidue;  // winrun calls the stub as a C++ function pointer: a Win64 call
    r.ending = j.at("returned").get<bool>() ? Ending::Returned : Ending::Died;
    if (j.value("timed_out", false)) {
      r.ending = Ending::TimedOut;
      r.fault.signal = 1;  // stopped
      r.fault.rip = u64(j.at("rip"));
      if (r.fault.rip >= r.text_address && r.fault.rip - r.text_address < image.code_size)
        r.fault.offset = static_cast<int64_t>(r.fault.rip - r.text_address);
    }
    if (j.contains("exception")) read_exception(image, j["exception"], r);
    if (j.contains("after")) read_after(j["after"], r);
    r.value = j.contains("value") ? u64(j["value"]) : 0;
    r.captured_stdout = std::move(out);
    r.captured_stderr = std::move(err);
    for (const Symbol& s : image.symbols)
      r.placed.emplace_back(s.name, image.placed_address(s, r.text_address, r.data_address));
    for (const auto& call : j.at("calls")) r.calls.push_back(call_record(image, r, call));
    if (j.contains("unwind")) {
      r.unwind_checked = static_cast<int>(std::min<int64_t>(i64(j["unwind"].at("checked")), INT32_MAX));
      for (const auto& f : j["unwind"].at("failures"))
        r.unwind_failures.emplace_back(i64(f.at(0)), f.at(1).get<std::string>());
    }
    return r;
  } catch (const std::exception& e) {  // nlohmann's errors and malformed numbers
    return Error{fmt::format("{}: winrun's report: {}", image.stub, e.what())};
  }
}

namespace {

// The image as winrun gets it: every import that declares no signature gets its stand-in's, so that winrun
// knows which arguments are out32 pointers to read back.
std::string image_file_for_winrun(const Image& image) {
  imagefile::File f = to_file(image);
  for (size_t i = 0; i < f.symbols.size(); ++i)
    if (f.symbols[i].kind == "import") f.symbols[i].signature = win64::to_string(signature_of(image.symbols[i], builtin_standins()));
  return imagefile::write(f);
}

// Runs argv with the Wine environment, stdout and stderr to files; kills it past the deadline.
Expected<int> spawn_and_wait(std::vector<std::string> argv, const WineSetup& setup, const fs::path& out,
                             const fs::path& err, std::chrono::seconds timeout) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view var(*e);
    if (!var.starts_with("WINEPREFIX=") && !var.starts_with("WINEDEBUG=") && !var.starts_with("WINEDLLOVERRIDES="))
      env.emplace_back(var);
  }
  env.push_back("WINEPREFIX=" + setup.prefix);
  env.push_back("WINEDEBUG=-all");
  env.push_back("WINEDLLOVERRIDES=mscoree,mshtml=");  // no Mono or Gecko installer on first use
  std::vector<char*> argv_c, env_c;
  for (std::string& a : argv) argv_c.push_back(a.data());
  for (std::string& e : env) env_c.push_back(e.data());
  argv_c.push_back(nullptr);
  env_c.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv_c[0], &actions, nullptr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error{fmt::format("cannot start {}: {}", argv[0], std::strerror(rc))};

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return Error{fmt::format("waitpid: {}", std::strerror(errno))};
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Error{fmt::format("wine64 did not finish within {} s", timeout.count())};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Expected<WineSetup> find_wine(const std::string& winrun, const std::string& prefix) {
  WineSetup setup{{}, winrun, prefix};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':') && setup.wine64.empty();)
      if (executable(dir + "/wine64")) setup.wine64 = dir + "/wine64";
  }
  if (setup.wine64.empty() && executable("/usr/lib/wine/wine64")) setup.wine64 = "/usr/lib/wine/wine64";
  if (setup.wine64.empty()) return Error{"wine64 is not installed: apt-get install wine64"};
  if (winrun.empty() || access(winrun.c_str(), R_OK) != 0)
    return Error{fmt::format("winrun.exe was not built{}: apt-get install g++-mingw-w64-x86-64, then reconfigure "
                             "and rebuild", winrun.empty() ? "" : fmt::format(" ({} is missing)", winrun))};
  return setup;
}

Expected<WineSetup> find_wine() {
  std::string prefix;
  if (const char* env = std::getenv("W64STUB_WINEPREFIX"); env && *env) prefix = env;
  else if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) prefix = std::string(cache) + "/w64stub/wine";
  else if (const char* home = std::getenv("HOME"); home && *home) prefix = std::string(home) + "/.cache/w64stub/wine";
  else return Error{"no Wine prefix: set W64STUB_WINEPREFIX (or HOME)"};
  const std::string dir = data_dir();
  return find_wine(dir.empty() ? "" : dir + "/winrun.exe", prefix);
}

Expected<std::vector<Expected<RunReport>>> run_wine(std::span<const Image> images, const WineSetup& setup,
                                                    const WineOptions& options) {
  std::string dir_template = (fs::temp_directory_path() / "w64stub-wine-XXXXXX").string();
  if (!mkdtemp(dir_template.data())) return Error{fmt::format("mkdtemp: {}", std::strerror(errno))};
  const fs::path dir = dir_template;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{dir};

  std::vector<std::string> argv = {setup.wine64, setup.winrun, "--probe", "--mark", "--report",
                                   (dir / "reports").string()};
  if (options.stub_timeout.count() > 0)
    argv.insert(argv.end(), {"--timeout", fmt::format("{}", options.stub_timeout.count())});
  if (options.unwind_check) argv.push_back("--unwind-check");
  if (options.args.size() > 8) return Error{"winrun passes at most 8 arguments"};
  if (!options.args.empty()) argv.insert(argv.end(), {"--args", fmt::format("{}", fmt::join(options.args, ","))});
  for (size_t i = 0; i < images.size(); ++i) {
    const fs::path file = dir / fmt::format("{}.image", i);
    std::ofstream(file, std::ios::binary) << image_file_for_winrun(images[i]);
    argv.push_back(file.string());
  }
  std::error_code ec;
  fs::create_directories(fs::path(setup.prefix).parent_path(), ec);
  // wine64 itself can fail to start: seen once in tools/check on a fresh clone (exit status 1 within 50 ms,
  // nothing written; the same run passed every time after). winrun then never ran - it marks each image on
  // stdout before it runs it - so it is started once more. A winrun that ran and failed is not run again.
  auto status = spawn_and_wait(argv, setup, dir / "out", dir / "err", options.timeout);
  const bool silent = status && *status != 0 && slurp(dir / "out").empty() && slurp(dir / "err").empty() &&
                      !fs::exists(dir / "reports");
  if (silent) status = spawn_and_wait(argv, setup, dir / "out", dir / "err", options.timeout);
  if (!status) return status.error();

  const std::string out = slurp(dir / "out"), err = slurp(dir / "err");
  const auto outs = split_marked(out), errs = split_marked(err);
  const auto jsons = reports(slurp(dir / "reports"));
  std::vector<Expected<RunReport>> result;
  for (size_t i = 0; i < images.size(); ++i) {
    if (!jsons.count(i)) {
      std::string tail = err.substr(err.size() > 400 ? err.size() - 400 : 0);
      result.emplace_back(Error{fmt::format("{}: winrun gave no report ({}, exit status {}); its stderr ends: {:?}",
                                            images[i].stub, WIFSIGNALED(*status) ? "killed" : "exited",
                                            WIFEXITED(*status) ? WEXITSTATUS(*status) : WTERMSIG(*status),
                                            tail)});
      continue;
    }
    auto stub_out = outs.count(i) ? outs.at(i) : std::string();
    auto stub_err = errs.count(i) ? errs.at(i) : std::string();
    result.push_back(read_winrun_report(images[i], jsons.at(i), std::move(stub_out), std::move(stub_err)));
  }
  return result;
}

}  // namespace w64stub
