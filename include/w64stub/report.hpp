// Report: frame facts and native-run results as text for people and JSON for programs.
#pragma once

#include <string>

#include "w64stub/harness.hpp"
#include "w64stub/image.hpp"

namespace w64stub {

std::string format_frame(const Image& image);
std::string format_run(const Image& image, const RunReport& report);
std::string format_run_json(const Image& image, const RunReport& report);

}  // namespace w64stub
