// Install: where w64stub's data lives (share/w64stub: the reference bytes under ref/, winrun.exe), found
// relative to the running executable so that an install prefix can be moved anywhere.
#pragma once

#include <string>

namespace w64stub {

// $W64STUB_DATA_DIR if set; else <exe dir>/share/w64stub (a build tree); else <exe dir>/../share/w64stub
// (an install prefix). "" when none exists.
std::string data_dir();

}  // namespace w64stub
