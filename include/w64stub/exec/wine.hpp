// Wine: runs Images against the real Windows API. Each Image is written as an image file, and one wine64
// process runs tools/winrun (built with mingw-w64) over all of them: it loads, relocates and calls each, with
// a logging probe on every import. Its reports come back as RunReports of host Wine, shaped like native ones.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

struct WineSetup {
  std::string wine64;  // the wine64 loader
  std::string winrun;  // winrun.exe
  std::string prefix;  // WINEPREFIX: created by wine64 on first use
};

// Finds wine64 (on PATH, then /usr/lib/wine/wine64) and checks that winrun.exe exists. The errors say which
// Debian package to install: wine64, or g++-mingw-w64-x86-64 (which winrun.exe is built with).
Expected<WineSetup> find_wine(const std::string& winrun, const std::string& prefix);

// winrun.exe from data_dir() and the default prefix: $W64STUB_WINEPREFIX, else $XDG_CACHE_HOME/w64stub/wine,
// else ~/.cache/w64stub/wine.
Expected<WineSetup> find_wine();

struct WineOptions {
  std::chrono::seconds timeout{120};  // for the whole batch, including a first-time prefix creation
  // Run each stub one instruction at a time and check Windows' unwinder at every boundary (winrun
  // --unwind-check; the image's function table is registered either way).
  bool unwind_check = false;
  std::vector<uint64_t> args;  // what winrun calls every stub with: RCX, RDX, R8, R9, then the stack (up to 8)
  std::chrono::milliseconds stub_timeout{0};  // per stub: stopped and reported where it spins; 0 waits
};

// A report of winrun's (one JSON line) for the image it ran: what run_wine makes of each. Anything malformed
// is an error, never a crash.
Expected<RunReport> read_winrun_report(const Image& image, std::string_view json, std::string out = {},
                                       std::string err = {});

// One wine64 process for all the images; one report (or the error winrun gave) per image, in order.
Expected<std::vector<Expected<RunReport>>> run_wine(std::span<const Image> images, const WineSetup& setup,
                                                    const WineOptions& options = {});

}  // namespace w64stub
