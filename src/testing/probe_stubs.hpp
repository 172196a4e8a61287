// Probe test helpers: probing with a REQUIRE, the rules a report broke, and hand-written stubs, one source
// line per instruction, calling kernel32 through import slots.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "w64stub/w64stub.hpp"

namespace w64stub::test {

namespace x86 = asmjit::x86;

inline ProbeReport probe_ok(const Image& image, RunOptions options = {}) {
  auto report = probe(image, options);
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  return std::move(*report);
}

// The rules broken, in order, as one string doctest can show: "nonvolatile, fault".
inline std::string rules(const ProbeReport& r) {
  std::vector<std::string> out;
  for (const Violation& v : r.violations) out.push_back(v.rule);
  return fmt::format("{}", fmt::join(out, ", "));
}

inline const Violation* find_rule(const ProbeReport& r, std::string_view rule) {
  for (const Violation& v : r.violations)
    if (v.rule == rule) return &v;
  return nullptr;
}

// Hand-written stubs, one source line per instruction, calling kernel32 through import slots.
class Stub {
 public:
  Stub() {
    p_.symbol = "broken";
    p_.loc = {"broken.s", 0, 1};
    p_.imports = {{"GetStdHandle", "kernel32.dll", "GetStdHandle"}, {"WriteFile", "kernel32.dll", "WriteFile"}};
  }
  Stub& add(std::string text, asmjit::InstId id, std::vector<Operand> ops = {}) {
    lines_.push_back(std::move(text));
    p_.instrs.push_back(Instr{id, std::move(ops), {"broken.s", line(), 1}});
    return *this;
  }
  Stub& label(std::string name) {
    lines_.push_back(name + ":");
    p_.instrs.push_back(Instr::bind(name, {"broken.s", line(), 1}));
    return *this;
  }
  // sub rsp, frame; GetStdHandle(-12) -- a correct call when frame = 8 (mod 16) and >= 32.
  Stub& get_std_handle(int32_t frame) {
    add(fmt::format("sub rsp, {}", frame), x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(frame)});
    add("mov ecx, -12", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-12)});
    add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    return add("call rax", x86::Inst::kIdCall, {x86::rax});
  }
  Stub& leave(int32_t frame) {
    add(fmt::format("add rsp, {}", frame), x86::Inst::kIdAdd, {x86::rsp, asmjit::Imm(frame)});
    return add("ret", x86::Inst::kIdRet);
  }
  Program& program() {
    p_.source_lines = lines_;  // the lines so far
    return p_;
  }
  Image image(Model model = Model::Go2012) {
    auto image = emit(program(), {model, Policy::As, {}, "broken"});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    return std::move(*image);
  }
  // The offset of the instruction written on source line `line`.
  static int64_t offset_of_line(int line, const Image& image) {
    for (const InstrInfo& i : image.instrs)
      if (i.loc.line == line) return i.offset;
    return -1;
  }
  int line() const { return static_cast<int>(lines_.size()); }

 private:
  Program p_;
  std::vector<std::string> lines_;
};

}  // namespace w64stub::test
