// COFF objects under Wine: programs built with mingw-w64 from w64stub's objects and testdata/coff's C and
// C++ callers run against the real Windows API - the 2012 stubs, a C++ exception through a stub's frame, and
// the symbols of a whole Plan 9 file.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../testing/test_support.hpp"
#include "w64stub/emit/link.hpp"
#include "w64stub/exec/thunks.hpp"
#include "w64stub/exec/wine.hpp"
#include "w64stub/out/coff.hpp"
#include "w64stub/plan9/asm.hpp"

using namespace w64stub;

namespace {

const std::string kTestdata = std::string(W64STUB_REF_DIR) + "/..";

struct Scratch {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-coff-wine-{}", getpid());
  Scratch() { std::filesystem::create_directories(dir); }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  // The object of `image`, written here; the test fails when it cannot be written.
  std::string object(const Image& image, const std::string& name) const {
    auto object = write_object(image);
    REQUIRE_MESSAGE(object, object.error().message);
    test::write_bytes(path(name), object->bytes);
    return path(name);
  }
};

// mingw-w64 links `source` with the objects into NAME.exe (go2012 below 2 GiB and without ASLR, as 6l's PE);
// "" when it links, else ld's messages.
std::string build(const Scratch& s, const std::string& compiler, const std::string& source,
                  const std::vector<std::string>& objects, Model model, const std::string& name,
                  const std::string& extra = "") {
  std::string command = fmt::format("{} -o {} {}/coff/{}", compiler, s.path(name), kTestdata, source);
  for (const std::string& o : objects) command += " " + o;
  if (model == Model::Go2012) command += " -Wl,--image-base=0x400000 -Wl,--disable-dynamicbase";
  return test::output_of(command + " " + extra + " 2>&1");
}

std::string run_under_wine(const WineSetup& wine, const std::string& exe) {
  return test::output_of(fmt::format("WINEPREFIX={} WINEDEBUG=-all timeout 60 {} {} 2>&1", wine.prefix, wine.wine64, exe));
}

WineSetup wine_setup() {
  auto s = find_wine();
  REQUIRE_MESSAGE(s.ok(), s.error().message);
  return *s;
}

const char* kCallbackMessage = "runtime: cgo callback on thread not created by Go.";
const char* kSignalMessage = "runtime: signal received on thread not created by Go.";

}  // namespace

TEST_CASE("obj acceptance 2: a C program linked with the stubs' objects prints each message, or fails with 1784") {
  const WineSetup wine = wine_setup();
  const Scratch s;
  for (Variant v : kVariants)
    for (Model m : kModels) {
      if (v == Variant::Faithful && m == Model::Abs64) continue;  // refused by emit
      CAPTURE(name(v));
      CAPTURE(name(m));
      const std::string exe = fmt::format("stubs-{}-{}.exe", name(v), name(m));
      const std::vector<std::string> objects = {s.object(test::emit_catalog("badcallback", v, m), "badcallback.obj"),
                                                s.object(test::emit_catalog("badsignal", v, m), "badsignal.obj")};
      REQUIRE(build(s, "x86_64-w64-mingw32-gcc", "call_stubs.c", objects, m, exe) == "");
      const std::string out = run_under_wine(wine, s.path(exe));
      const bool faithful = v == Variant::Faithful;  // WriteFile's count is the ADDRESS of the length
      CHECK((out.find(kCallbackMessage) != std::string::npos) == !faithful);
      CHECK((out.find(kSignalMessage) != std::string::npos) == !faithful);
      CHECK(out.find(fmt::format("badcallback: last error {}", faithful ? 1784 : 0)) != std::string::npos);
      CHECK(out.find(fmt::format("badsignal: last error {}", faithful ? 1784 : 0)) != std::string::npos);
    }
}

TEST_CASE("obj acceptance 2: a C++ exception thrown by what the stub calls unwinds through the stub's frame") {
  const WineSetup wine = wine_setup();
  const Scratch s;
  for (Model m : kModels) {
    CAPTURE(name(m));
    const std::string exe = fmt::format("unwind-{}.exe", name(m));
    const std::string object = s.object(test::emit_catalog("badcallback", Variant::Abi, m), "badcallback.obj");
    REQUIRE(build(s, "x86_64-w64-mingw32-g++", "unwind_through_stub.cpp", {object}, m, exe, "-static") == "");
    const std::string out = run_under_wine(wine, s.path(exe));
    CHECK(out.find("stub frame found") != std::string::npos);  // RtlLookupFunctionEntry: our .pdata
    CHECK(out.find("caught: thrown from WriteFile") != std::string::npos);
  }
}

TEST_CASE("obj acceptance 3: sys_windows_amd64.s as one object links, and what C can call runs") {
  const WineSetup wine = wine_setup();
  const Scratch s;
  auto file = assemble_plan9_file(kTestdata + "/go/sys_windows_amd64.s", {{kTestdata + "/go/include"}});
  REQUIRE(file);
  REQUIRE(file->errors.empty());
  auto linked = link(file->programs);
  REQUIRE(linked);
  for (Model m : kModels) {
    CAPTURE(name(m));
    auto image = emit(*linked, {m, Policy::As});
    REQUIRE(image);
    auto object = write_object(*image);
    REQUIRE(object);
    CHECK(object->notes.size() == 5);  // the functions whose RSP games unwind data cannot describe
    const std::string exe = fmt::format("sys-{}.exe", name(m));
    REQUIRE(build(s, "x86_64-w64-mingw32-gcc", "call_sys_windows.c", {s.object(*image, "sys.obj")}, m, exe, "-lntdll") == "");
    const std::string out = run_under_wine(wine, s.path(exe));
    CHECK(out.find("asmstdcall: r1 654321 err 77") != std::string::npos);  // 1 + 2*10 + ... + 6*100000
    CHECK(out.find("getlasterror: 1234") != std::string::npos);
  }
}

TEST_CASE("thunks under Wine: qsort and EnumSystemLocalesW call the factory's thunks, each reaching its own context") {
  const WineSetup wine = wine_setup();
  const Scratch s;
  auto image = ThunkFactory::object_image(8);
  REQUIRE(image);
  const std::string object = s.object(*image, "thunks.obj");
  REQUIRE(build(s, "x86_64-w64-mingw32-gcc", "thunk_callbacks.c", {object}, Model::Abs64, "thunks.exe") == "");
  const std::string out = run_under_wine(wine, s.path("thunks.exe"));
  CHECK(out.find("thunk0: ascending") != std::string::npos);
  CHECK(out.find("thunk1: descending") != std::string::npos);
  CHECK(out.find("thunk5: EnumSystemLocalesW TRUE") != std::string::npos);
  CHECK(out.find(", 0 locales") == std::string::npos);
  CHECK(out.find(", 0 English") == std::string::npos);
  MESSAGE(out);
}
