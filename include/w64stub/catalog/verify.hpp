// Verify: every catalog stub x variant x model x policy, emitted and compared with the reference bytes
// tools/refgen wrote from GNU as, llvm-mc and nasm (testdata/ref, installed under share/w64stub/ref).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/core/layout.hpp"

namespace w64stub {

// "<stub>.<variant>.<model>.<policy>", the stem of the .s/.asm/.hex files.
std::string reference_stem(std::string_view stub, Variant variant, Model model, Policy policy);

// One catalog combination against DIR/<stem>.hex. Refused: emit declines it and no reference exists
// (abs64 x faithful); any other disagreement between the two is a mismatch.
struct Verdict {
  enum Kind { Match, Mismatch, Refused } kind = Mismatch;
  std::string stem;
  std::string detail;  // the diff, or why it was refused or could not be compared
  size_t bytes = 0;
};
std::vector<Verdict> verify_stub(std::string_view stub, const std::string& ref_dir);

}  // namespace w64stub
