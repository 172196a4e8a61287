#include "arch_p.hpp"

#include <fmt/format.h>

#include <tuple>

namespace w64stub::plan9 {

namespace x86 = asmjit::x86;

std::optional<Reg> find_register(std::string_view name) {
  static const std::map<std::string, Reg, std::less<>> table = [] {
    std::map<std::string, Reg, std::less<>> r;
    const char* gp[] = {"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI"};
    const char* low[] = {"AL", "CL", "DL", "BL", "SPB", "BPB", "SIB", "DIB"};
    const char* high[] = {"AH", "CH", "DH", "BH"};
    for (uint32_t i = 0; i < 8; ++i) r[gp[i]] = {Reg::Gp, i}, r[low[i]] = {Reg::Gp, i};
    for (uint32_t i = 0; i < 4; ++i) r[high[i]] = {Reg::GpHigh, i};
    for (uint32_t i = 8; i < 16; ++i) r[fmt::format("R{}", i)] = {Reg::Gp, i}, r[fmt::format("R{}B", i)] = {Reg::Gp, i};
    for (uint32_t i = 0; i < 16; ++i) r[fmt::format("X{}", i)] = {Reg::Xmm, i};
    r["GS"] = {Reg::Seg, asmjit::x86::SReg::kIdGs};
    r["FS"] = {Reg::Seg, asmjit::x86::SReg::kIdFs};
    r["SB"] = {Reg::Sb, 0};
    r["FP"] = {Reg::Fp, 0};
    r["PC"] = {Reg::Pc, 0};
    return r;
  }();
  auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

const std::map<std::string, Mnemonic, std::less<>>& mnemonics() {
  static const auto table = [] {
    std::map<std::string, Mnemonic, std::less<>> t;
    auto sized = [&](std::string_view base, asmjit::InstId id, Form form, std::string_view suffixes = "QLWB") {
      for (char s : suffixes) {
        const uint32_t size = s == 'Q' ? 8 : s == 'L' ? 4 : s == 'W' ? 2 : 1;
        t[std::string(base) + s] = {id, size, form};
      }
    };
    namespace I = x86::Inst;
    using Named = std::initializer_list<std::pair<const char*, asmjit::InstId>>;
    for (auto [name, id] : Named{{"MOV", I::kIdMov}, {"ADD", I::kIdAdd}, {"SUB", I::kIdSub}, {"AND", I::kIdAnd},
                            {"OR", I::kIdOr}, {"XOR", I::kIdXor}, {"ADC", I::kIdAdc}, {"SBB", I::kIdSbb},
                            {"TEST", I::kIdTest}, {"XCHG", I::kIdXchg}, {"XADD", I::kIdXadd},
                            {"CMPXCHG", I::kIdCmpxchg}})
      sized(name, id, Form::Binary);
    sized("LEA", I::kIdLea, Form::Binary, "QLW");
    sized("IMUL", I::kIdImul, Form::Binary, "QLW");
    sized("CMP", I::kIdCmp, Form::Compare);
    for (auto [name, id] : Named{{"NEG", I::kIdNeg}, {"NOT", I::kIdNot}, {"INC", I::kIdInc}, {"DEC", I::kIdDec},
                            {"DIV", I::kIdDiv}, {"IDIV", I::kIdIdiv}, {"MUL", I::kIdMul}})
      sized(name, id, Form::Unary);
    sized("PUSH", I::kIdPush, Form::Unary, "QW");
    sized("POP", I::kIdPop, Form::Unary, "QW");
    for (auto [name, id] : Named{{"SHL", I::kIdShl}, {"SHR", I::kIdShr}, {"SAR", I::kIdSar}, {"ROL", I::kIdRol},
                            {"ROR", I::kIdRor}, {"RCL", I::kIdRcl}, {"RCR", I::kIdRcr}})
      sized(name, id, Form::Shift);
    sized("MOVS", I::kIdMovs, Form::StringOp);
    sized("STOS", I::kIdStos, Form::StringOp);
    for (auto [name, id] : Named{{"RET", I::kIdRet}, {"CLD", I::kIdCld}, {"STD", I::kIdStd}, {"CPUID", I::kIdCpuid},
                            {"RDTSC", I::kIdRdtsc}, {"NOP", I::kIdNop}, {"PAUSE", I::kIdPause}, {"MFENCE", I::kIdMfence},
                            {"LFENCE", I::kIdLfence}, {"SFENCE", I::kIdSfence}, {"HLT", I::kIdHlt}, {"CQO", I::kIdCqo},
                            {"CDQ", I::kIdCdq}, {"PUSHFQ", I::kIdPushfq}, {"POPFQ", I::kIdPopfq}})
      t[name] = {id, 0, Form::None};
    t["PUSHFQ"].size = t["POPFQ"].size = 8;
    t["INT"] = {I::kIdInt, 0, Form::Int};
    t["CALL"] = {I::kIdCall, 8, Form::Call};
    for (auto [name, id] : Named{{"JMP", I::kIdJmp}, {"JEQ", I::kIdJe}, {"JZ", I::kIdJe}, {"JNE", I::kIdJne},
                            {"JNZ", I::kIdJne}, {"JLT", I::kIdJl}, {"JLE", I::kIdJle}, {"JGT", I::kIdJg},
                            {"JGE", I::kIdJge}, {"JCS", I::kIdJb}, {"JLO", I::kIdJb}, {"JCC", I::kIdJae},
                            {"JHS", I::kIdJae}, {"JLS", I::kIdJbe}, {"JHI", I::kIdJa}, {"JMI", I::kIdJs},
                            {"JPL", I::kIdJns}, {"JOS", I::kIdJo}, {"JOC", I::kIdJno}, {"JPS", I::kIdJp},
                            {"JPC", I::kIdJnp}})
      t[name] = {id, 8, Form::Jump};
    t["REP"] = {I::kIdNone, 0, Form::Prefix, 0, Prefix::Rep};
    t["REPN"] = {I::kIdNone, 0, Form::Prefix, 0, Prefix::Repne};
    t["LOCK"] = {I::kIdNone, 0, Form::Prefix, 0, Prefix::Lock};
    using Extended = std::initializer_list<std::tuple<const char*, asmjit::InstId, uint32_t, uint32_t>>;
    for (auto [name, id, size, src] : Extended{{"MOVBLZX", I::kIdMovzx, 4u, 1u}, {"MOVBQZX", I::kIdMovzx, 8u, 1u},
                                       {"MOVWLZX", I::kIdMovzx, 4u, 2u}, {"MOVWQZX", I::kIdMovzx, 8u, 2u},
                                       {"MOVBLSX", I::kIdMovsx, 4u, 1u}, {"MOVBQSX", I::kIdMovsx, 8u, 1u},
                                       {"MOVWLSX", I::kIdMovsx, 4u, 2u}, {"MOVWQSX", I::kIdMovsx, 8u, 2u},
                                       {"MOVLQSX", I::kIdMovsxd, 8u, 4u}, {"MOVLQZX", I::kIdMov, 4u, 4u}})
      t[name] = {id, size, Form::Extend, src};
    for (auto [name, id] : Named{{"MOVOU", I::kIdMovdqu}, {"MOVOA", I::kIdMovdqa}, {"MOVUPS", I::kIdMovups},
                            {"MOVAPS", I::kIdMovaps}, {"PXOR", I::kIdPxor}, {"XORPS", I::kIdXorps}})
      t[name] = {id, 16, Form::Binary};
    return t;
  }();
  return table;
}

// TEXT flags by name (Go's textflag.h), usable in the flags expression.
const Names& text_flags() {
  static const Names names = {{"NOPROF", 1},  {"DUPOK", 2},    {"NOSPLIT", 4},   {"RODATA", 8},
                                     {"NOPTR", 16},  {"WRAPPER", 32}, {"NEEDCTXT", 64}, {"NOFRAME", 512},
                                     {"TOPFRAME", 2048}};
  return names;
}

// General-purpose register `id` at the width the size suffix gives (0: the full 64 bits).
x86::Gp sized_gp(uint32_t id, uint32_t size) {
  return size == 1 ? x86::Gp(x86::gpb_lo(id)) : size == 2 ? x86::Gp(x86::gpw(id)) : size == 4 ? x86::Gp(x86::gpd(id))
                                                                                              : x86::Gp(x86::gpq(id));
}

}  // namespace w64stub::plan9
