// w64stub: the whole public surface, one include. Each stage's headers can also be included alone.
//
//   core     error, program, callconv, layout, disasm, image, imagefile, frame, frame_plan, install
//   win      unwind (UNWIND_INFO, RUNTIME_FUNCTION)
//   plan9    assemble Go's Plan 9 amd64 text into Programs
//   emit     Program -> Image through asmjit
//   exec     jit (place an Image in memory), stand-ins, harness, probe, wine
//   out      listing, golden comparison, reports, COFF objects
//   catalog  the Go runtime's 2012 stubs, their data page and diagnoses, verify
#pragma once

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/core/error.hpp"
#include "w64stub/core/frame.hpp"
#include "w64stub/core/frame_plan.hpp"
#include "w64stub/core/stack_check.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/core/imagefile.hpp"
#include "w64stub/core/install.hpp"
#include "w64stub/core/layout.hpp"
#include "w64stub/core/program.hpp"
#include "w64stub/plan9/asm.hpp"
#include "w64stub/win/unwind.hpp"
#include "w64stub/emit/adopt.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/link.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/exec/jit.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/exec/run_report.hpp"
#include "w64stub/exec/standins.hpp"
#include "w64stub/exec/wine.hpp"
#include "w64stub/out/golden.hpp"
#include "w64stub/out/coff.hpp"
#include "w64stub/out/listing.hpp"
#include "w64stub/out/report.hpp"
#include "w64stub/catalog/catalog.hpp"
#include "w64stub/catalog/verify.hpp"
