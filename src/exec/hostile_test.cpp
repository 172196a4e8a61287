// The catalog of hostile and broken images (testdata/hostile), probed natively: each gets its expected
// verdict, the host survives every one (this process, a run host, and the CLI as a child), no process of a run is left,
// and nothing outside the run's scratch directory changes - not even inside it, where the stubs aim.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "../testing/hostile.hpp"
#include "../testing/probe_stubs.hpp"
#include "../testing/test_support.hpp"
#include "w64stub/exec/run_host.hpp"

using namespace w64stub;
namespace fs = std::filesystem;

namespace {

constexpr auto kTimeout = std::chrono::milliseconds(300);
const char kCanaryText[] = "the canary: no stub may change, rename or remove this file\n";

std::string verdict(const ProbeReport& r) { return r.conformant() ? "conformant" : test::rules(r); }

// The processes whose parent is this one, from /proc: a run's child is reaped before probe returns.
int live_children() {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    count += ppid == getpid();
  }
  return count;
}

// A scratch working directory with the canary in it, for the length of a test; the stubs' relative paths
// land here.
struct Scratch {
  fs::path previous = fs::current_path();
  fs::path dir;
  Scratch() {
    std::string templ = (fs::temp_directory_path() / "w64stub-hostile-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()));
    dir = templ;
    std::ofstream(dir / "canary") << kCanaryText;
    fs::current_path(dir);
  }
  ~Scratch() {
    fs::current_path(previous);
    fs::remove_all(dir);
  }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
  }
};

// One case's report against its expected verdict; `children` of this process live meanwhile (a run host is one).
void check_verdict(const test::HostileCase& c, const Image& image, const Expected<ProbeReport>& report, int children) {
  CAPTURE(c.name);
  CAPTURE(c.what);
  REQUIRE_FALSE(c.expect.empty());
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  CHECK(verdict(*report) == c.expect);
  if (getenv("HOSTILE_DUMP")) std::ofstream(std::string(getenv("HOSTILE_DUMP")) + "/" + c.name + ".image") << imagefile::write(to_file(image));
  if (!c.message.empty()) {
    REQUIRE_FALSE(report->violations.empty());
    CHECK_MESSAGE(report->violations[0].message.find(c.message) != std::string::npos, report->violations[0].message);
  }
  if (!c.failure.empty()) {
    bool found = false;
    for (const CallCheck& call : report->calls)
      for (const Finding& f : call.findings) found = found || (f.kind == Finding::Failure && f.text.find(c.failure) != std::string::npos);
    CHECK_MESSAGE(found, "no call failed with: " << c.failure);
  }
  CHECK_FALSE(report->run.processes_left);
  CHECK(live_children() == children);
}

// Nothing outside the scratch directory changed, nor the canary in it.
void check_scratch(const Scratch& scratch) {
  CHECK(scratch.listing() == std::set<std::string>{"canary"});
  CHECK(test::slurp((scratch.dir / "canary").string()) == kCanaryText);
  CHECK((fs::status(scratch.dir / "canary").permissions() & fs::perms::others_write) == fs::perms::none);
  CHECK_FALSE(fs::exists("/tmp/w64stub-hostile-created"));
}

// Probes every native image of the catalog with `options`, one at a time.
void check_verdicts(const Scratch& scratch, const RunOptions& options, int children) {
  for (const std::string& name : test::hostile_names()) {
    const test::HostileCase c = test::load_hostile(name);
    if (!c.native) continue;
    const Image image = test::adopt_hostile(c);
    check_verdict(c, image, probe(image, options), children);
  }
  check_scratch(scratch);
}

}  // namespace

TEST_CASE("the hostile catalog: at least 50 images, each with its expected verdict") {
  CHECK(test::hostile_names().size() >= 50);
  Scratch scratch;
  check_verdicts(scratch, {.timeout = kTimeout}, 0);
}

// The catalog's native images in batches (probe_all): twice over, so that it spans more than one child however
// many stubs a child takes; relocated, so that the stubs that return share one (the catalog's images all ask
// for the same addresses).
void check_batch_verdicts(const Scratch& scratch, RunHost* host) {
  std::vector<test::HostileCase> cases;
  std::vector<Image> images;
  for (int round = 0; round < 2; ++round)
    for (const std::string& name : test::hostile_names())
      if (test::HostileCase c = test::load_hostile(name); c.native) {
        images.push_back(test::adopt_hostile(c));
        cases.push_back(std::move(c));
      }
  const auto reports = probe_all(images, {.at_image_addresses = false, .timeout = kTimeout, .host = host});
  REQUIRE(reports.size() == images.size());
  for (size_t i = 0; i < images.size(); ++i) check_verdict(cases[i], images[i], reports[i], host ? 1 : 0);
  check_scratch(scratch);
}

TEST_CASE("the hostile catalog in batches: probe_all gives each image the verdict it has alone") {
  Scratch scratch;
  check_batch_verdicts(scratch, nullptr);
}

TEST_CASE("the hostile catalog in batches through a run host: the same verdicts") {
  Scratch scratch;  // first: the run host keeps the working directory it started in
  auto host = RunHost::start();
  REQUIRE_MESSAGE(host.ok(), host.error().message);
  check_batch_verdicts(scratch, host->get());
}

TEST_CASE("the hostile catalog through a run host: the same verdicts, and the run host lives through them all") {
  Scratch scratch;  // first: the run host keeps the working directory it started in
  auto host = RunHost::start();
  REQUIRE_MESSAGE(host.ok(), host.error().message);
  check_verdicts(scratch, {.timeout = kTimeout, .host = host->get()}, 1);
  auto after = probe(test::emit_catalog("badsignal", Variant::Abi, Model::Rip), {.host = host->get()});
  REQUIRE_MESSAGE(after.ok(), after.error().message);
  CHECK(after->conformant());
}

TEST_CASE("the hostile catalog through the CLI: w64stub probe survives each image file and reports its verdict") {
  Scratch scratch;
  for (const std::string& name : test::hostile_names()) {
    const test::HostileCase c = test::load_hostile(name);
    if (!c.native) continue;
    CAPTURE(name);
    const std::string file = (scratch.dir / "cases" / (name + ".image")).string();
    fs::create_directories(scratch.dir / "cases");
    std::ofstream(file) << imagefile::write(to_file(test::adopt_hostile(c)));
    const std::string out = (scratch.dir / "cases" / (name + ".out")).string();
    const int status = std::system(fmt::format("{} probe {} --timeout {} > {} 2>&1", W64STUB_CLI, file,
                                               kTimeout.count(), out).c_str());
    REQUIRE(WIFEXITED(status));
    const std::string text = test::slurp(out);
    CHECK_MESSAGE(WEXITSTATUS(status) == (c.expect == "conformant" && c.failure.empty() ? 0 : 1), text);
    const std::string first_rule = c.expect.substr(0, c.expect.find(','));
    if (c.expect != "conformant") CHECK_MESSAGE(text.find("  " + first_rule + " ") != std::string::npos, text);
  }
  fs::remove_all(scratch.dir / "cases");
  CHECK(scratch.listing() == std::set<std::string>{"canary"});
  CHECK(test::slurp((scratch.dir / "canary").string()) == kCanaryText);
}
