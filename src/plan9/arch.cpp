#include "arch_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

namespace w64stub::plan9 {

namespace x86 = asmjit::x86;

namespace {

// Every register name has at most four characters (R15B): packed into one number, the names are an open-
// addressed table probed by that number, and a longer name (most symbols) is no register at once.
constexpr size_t kMaxRegisterName = 4;
uint64_t pack(std::string_view name) {
  uint64_t key = name.size();  // with the length: no two names share a key
  for (char c : name) key = key << 8 | static_cast<uint8_t>(c);
  return key;
}
constexpr size_t kRegisterSlots = 256;  // more than three times the names: a probe or two
size_t slot_of(uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 56); }

}  // namespace

std::optional<Reg> find_register(std::string_view name) {
  static const auto table = [] {
    std::vector<std::pair<std::string, Reg>> r;
    const char* gp[] = {"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI"};
    const char* low[] = {"AL", "CL", "DL", "BL", "SPB", "BPB", "SIB", "DIB"};
    const char* high[] = {"AH", "CH", "DH", "BH"};
    for (uint32_t i = 0; i < 8; ++i) r.push_back({gp[i], {Reg::Gp, i}}), r.push_back({low[i], {Reg::Gp, i}});
    for (uint32_t i = 0; i < 4; ++i) r.push_back({high[i], {Reg::GpHigh, i}});
    for (uint32_t i = 8; i < 16; ++i) r.push_back({fmt::format("R{}", i), {Reg::Gp, i}}), r.push_back({fmt::format("R{}B", i), {Reg::Gp, i}});
    for (uint32_t i = 0; i < 16; ++i) r.push_back({fmt::format("X{}", i), {Reg::Xmm, i}}), r.push_back({fmt::format("Y{}", i), {Reg::Ymm, i}});
    r.push_back({"GS", {Reg::Seg, asmjit::x86::SReg::kIdGs}});
    r.push_back({"FS", {Reg::Seg, asmjit::x86::SReg::kIdFs}});
    r.push_back({"SB", {Reg::Sb, 0}});
    r.push_back({"FP", {Reg::Fp, 0}});
    r.push_back({"PC", {Reg::Pc, 0}});
    std::array<std::pair<uint64_t, Reg>, kRegisterSlots> slots{};  // key 0: empty (every name has a character)
    for (const auto& [n, reg] : r) {
      size_t k = slot_of(pack(n));
      while (slots[k].first) k = (k + 1) % kRegisterSlots;
      slots[k] = {pack(n), reg};
    }
    return slots;
  }();
  if (name.empty() || name.size() > kMaxRegisterName) return std::nullopt;
  const uint64_t key = pack(name);
  for (size_t k = slot_of(key); table[k].first; k = (k + 1) % kRegisterSlots)
    if (table[k].first == key) return table[k].second;
  return std::nullopt;
}

const NameMap<Mnemonic>& mnemonics() {
  static const auto table = [] {
    NameMap<Mnemonic> t;
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
    for (auto [name, id] : Named{{"MOVS", I::kIdMovs}, {"STOS", I::kIdStos}, {"SCAS", I::kIdScas}, {"LODS", I::kIdLods},
                            {"CMPS", I::kIdCmps}})
      sized(name, id, Form::StringOp);
    for (auto [name, id] : Named{{"RET", I::kIdRet}, {"CLD", I::kIdCld}, {"STD", I::kIdStd}, {"CPUID", I::kIdCpuid},
                            {"RDTSC", I::kIdRdtsc}, {"NOP", I::kIdNop}, {"PAUSE", I::kIdPause}, {"MFENCE", I::kIdMfence},
                            {"LFENCE", I::kIdLfence}, {"SFENCE", I::kIdSfence}, {"HLT", I::kIdHlt}, {"CQO", I::kIdCqo},
                            {"CDQ", I::kIdCdq}, {"PUSHFQ", I::kIdPushfq}, {"POPFQ", I::kIdPopfq}})
      t[name] = {id, 0, Form::None};
    t["PUSHFQ"].size = t["POPFQ"].size = 8;
    t["INT"] = {I::kIdInt, 0, Form::Int};
    for (auto [name, size] : {std::pair{"BYTE", 1u}, {"WORD", 2u}, {"LONG", 4u}, {"QUAD", 8u}})
      t[name] = {I::kIdNone, size, Form::Raw};
    t["CALL"] = {I::kIdCall, 8, Form::Call};
    t["JMP"] = {I::kIdJmp, 8, Form::Jump};
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

namespace {

// Go's condition suffixes and the Intel condition codes they name.
constexpr std::pair<std::string_view, std::string_view> kConditions[] = {
    {"EQ", "e"}, {"NE", "ne"}, {"LT", "l"}, {"LE", "le"}, {"GT", "g"}, {"GE", "ge"}, {"CS", "b"}, {"LO", "b"},
    {"CC", "ae"}, {"HS", "ae"}, {"LS", "be"}, {"HI", "a"}, {"MI", "s"}, {"PL", "ns"}, {"OS", "o"}, {"OC", "no"},
    {"PS", "p"}, {"PC", "np"}, {"Z", "e"}, {"NZ", "ne"}};

// Go names that are not Intel's upper-cased: (Go name, Intel name, size of the GP operand).
constexpr std::tuple<std::string_view, std::string_view, uint32_t> kRenamed[] = {
    {"WAIT", "fwait", 0},          {"PSHUFL", "pshufd", 0},       {"CVTSD2SL", "cvtsd2si", 4},
    {"CVTSD2SQ", "cvtsd2si", 8},   {"CVTTSD2SL", "cvttsd2si", 4}, {"CVTTSD2SQ", "cvttsd2si", 8},
    {"CVTSS2SL", "cvtss2si", 4},   {"CVTSS2SQ", "cvtss2si", 8},   {"CVTTSS2SL", "cvttss2si", 4},
    {"CVTTSS2SQ", "cvttss2si", 8}, {"CVTSL2SD", "cvtsi2sd", 4},   {"CVTSQ2SD", "cvtsi2sd", 8},
    {"CVTSL2SS", "cvtsi2ss", 4},   {"CVTSQ2SS", "cvtsi2ss", 8},   {"MOVOU", "movdqu", 0},
    {"MOVO", "movdqa", 0},         {"MOVOA", "movdqa", 0},        {"PSLLO", "pslldq", 0},
    {"PSRLO", "psrldq", 0},        {"PSRAL", "psrad", 0},         {"PSRLL", "psrld", 0},
    {"PSLLL", "pslld", 0},         {"PSRAW", "psraw", 0},         {"PSRLQ", "psrlq", 0},
    {"PSLLQ", "psllq", 0},         {"PSRLW", "psrlw", 0},         {"PSLLW", "psllw", 0},
    {"PADDL", "paddd", 0},         {"PSUBL", "psubd", 0},         {"PCMPEQL", "pcmpeqd", 0},
    {"PCMPGTL", "pcmpgtd", 0},     {"PUNPCKLLQ", "punpckldq", 0}, {"PUNPCKHLQ", "punpckhdq", 0},
    {"PMULULQ", "pmuludq", 0},     {"PEXTRL", "pextrd", 4},       {"PINSRL", "pinsrd", 4},
    {"MOVD", "movq", 8},           {"IMUL3Q", "imul", 8},         {"IMUL3L", "imul", 4},
    {"IMUL3W", "imul", 2}};  // Go's MOVD is MOVQ; IMUL3: the three-operand form

asmjit::InstId intel(std::string_view name) {
  return asmjit::InstAPI::stringToInstId(asmjit::Arch::kX64, name.data(), name.size());
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

uint32_t suffix_size(char c) { return c == 'Q' ? 8 : c == 'L' ? 4 : c == 'W' ? 2 : c == 'B' ? 1 : 0; }

// Jcc, SETcc and CMOVcc with Go's condition names.
std::optional<Mnemonic> conditional(std::string_view name) {
  for (auto [go, cc] : kConditions) {
    if (name == fmt::format("J{}", go)) return Mnemonic{intel(fmt::format("j{}", cc)), 8, Form::Jump};
    if (name == fmt::format("SET{}", go)) return Mnemonic{intel(fmt::format("set{}", cc)), 1, Form::Unary};
    for (char s : std::string_view("WLQ"))
      if (name == fmt::format("CMOV{}{}", s, go)) return Mnemonic{intel(fmt::format("cmov{}", cc)), suffix_size(s), Form::Binary};
  }
  return std::nullopt;
}

std::optional<Mnemonic> derive_mnemonic(std::string_view name) {
  if (name.empty() || std::any_of(name.begin(), name.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); }))
    return std::nullopt;  // Plan 9 mnemonics are upper case
  if (auto c = conditional(name)) return c;
  for (auto [go, intel_name, size] : kRenamed)
    if (name == go) return Mnemonic{intel(intel_name), size, Form::Auto};
  const std::string lowered = lower(name);
  if (lowered.size() > 1 && lowered[0] == 'j') {  // Intel's jump spellings: JL, JNBE, JPE
    const asmjit::InstId id = intel(lowered);
    if (id != asmjit::x86::Inst::kIdNone && id != asmjit::x86::Inst::kIdJmp) return Mnemonic{id, 8, Form::Jump};
    return std::nullopt;
  }
  // Intel's own name first (PSLLDQ is pslldq, not PSLLD with a Q), then a size suffix for GP operands
  // (BSWAPL, BTSQ) on a name that is an instruction without it.
  if (const asmjit::InstId id = intel(lowered); id != asmjit::x86::Inst::kIdNone) return Mnemonic{id, 0, Form::Auto};
  if (const uint32_t size = suffix_size(name.back()); size && lowered.size() > 1)
    if (const asmjit::InstId id = intel(std::string_view(lowered).substr(0, lowered.size() - 1)); id != asmjit::x86::Inst::kIdNone)
      return Mnemonic{id, size, Form::Auto};
  return std::nullopt;
}

}  // namespace

std::optional<Mnemonic> find_mnemonic(std::string_view name) {
  const NameMap<Mnemonic>& table = mnemonics();
  if (auto it = table.find(name); it != table.end()) return it->second;
  thread_local NameMap<Mnemonic> derived;  // bounded: asmjit's instructions with their suffixes
  if (auto it = derived.find(name); it != derived.end()) return it->second;
  auto m = derive_mnemonic(name);
  if (m) derived.emplace(name, *m);
  return m;
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
