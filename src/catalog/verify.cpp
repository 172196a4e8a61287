#include "w64stub/catalog/verify.hpp"

#include <fmt/format.h>

#include "w64stub/emit/emit.hpp"
#include "w64stub/out/golden.hpp"

namespace w64stub {

std::string reference_stem(std::string_view stub, Variant variant, Model model, Policy policy) {
  return fmt::format("{}.{}.{}.{}", stub, name(variant), name(model), name(policy));
}

std::vector<Verdict> verify_stub(std::string_view stub, const std::string& ref_dir) {
  std::vector<Verdict> out;
  for (Variant v : kVariants)
    for (Model m : kModels)
      for (Policy p : kPolicies) {
        Verdict verdict;
        verdict.stem = reference_stem(stub, v, m, p);
        auto program = catalog_program(stub, v);
        if (!program) {
          verdict.detail = program.error().message;
          out.push_back(std::move(verdict));
          return out;
        }
        auto image = emit(*program, {.model = m, .policy = p, .stub = std::string(stub)});
        auto expected = read_hex_file(fmt::format("{}/{}.hex", ref_dir, verdict.stem));
        if (!image && !expected) {
          verdict.kind = Verdict::Refused;
          verdict.detail = image.error().message;
        } else if (!image || !expected) {
          verdict.detail = !image ? image.error().message : expected.error().message;
        } else {
          Comparison c = compare_text(*expected, *image);
          verdict.kind = c.equal ? Verdict::Match : Verdict::Mismatch;
          verdict.detail = std::move(c.diff);
          verdict.bytes = image->text.bytes.size();
        }
        out.push_back(std::move(verdict));
      }
  return out;
}

}  // namespace w64stub
