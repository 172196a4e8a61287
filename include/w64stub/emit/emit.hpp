// Emit: a Program, a relocation model and an encoding policy in; an Image out. Every byte is encoded by
// asmjit's x86::Assembler; relocation fields are located by decoding the result with Zydis.
#pragma once

#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/core/layout.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

struct EmitOptions {
  Model model = Model::Go2012;
  Policy policy = Policy::As;
  std::vector<AddressOverride> addresses;
  std::string stub;                        // name to carry into the Image (defaults to the TEXT symbol)
};

Expected<Image> emit(const Program& program, const EmitOptions& options);

}  // namespace w64stub
