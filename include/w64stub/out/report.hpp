// Report: frame facts, native runs and probe verdicts as text for people and JSON for programs.
#pragma once

#include <string>

#include "w64stub/core/frame.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/win/unwind.hpp"
#include "w64stub/exec/probe.hpp"

namespace w64stub {

// The frame facts: declared and explicit parts, home area, stack arguments, each call's alignment.
std::string format_frame(const Image& image, const Frame& frame);
// The frame as people sketch it: its slots (return address, pushes, saves, locals, stack arguments, home area)
// with offsets from RSP and the frame pointer, and what each prolog and epilog instruction does.
std::string format_frame_diagram(const Image& image, const Frame& frame, const UnwindInfo& unwind);
// What the calls received and did, what was written, and the findings (violations and notes).
std::string format_run(const Image& image, const ProbeReport& report);
// The contract: a row per call site, a line per stub-wide rule, each violation with its instruction.
std::string format_probe(const Image& image, const ProbeReport& report);
// Everything above, for both `run` and `probe`.
std::string format_json(const Image& image, const ProbeReport& report);

}  // namespace w64stub
