#include "w64stub/core/callconv.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace w64stub::win64 {

namespace {

constexpr ValueType kTypes[] = {ValueType::I32, ValueType::U32,  ValueType::I64, ValueType::U64, ValueType::Ptr,
                                ValueType::Out32, ValueType::Bool, ValueType::F32, ValueType::F64, ValueType::Void};

Expected<ValueType> parse_type(std::string_view text, std::string_view whole) {
  for (ValueType t : kTypes)
    if (name(t) == text) return t;
  return Error{fmt::format("unknown type '{}' in signature '{}' (expected i32, u32, i64, u64, ptr, out32, bool, f32, "
                           "f64 or, for a result, void)", text, whole)};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view name(ValueType type) {
  switch (type) {
    case ValueType::I32: return "i32";
    case ValueType::U32: return "u32";
    case ValueType::I64: return "i64";
    case ValueType::U64: return "u64";
    case ValueType::Ptr: return "ptr";
    case ValueType::Out32: return "out32";
    case ValueType::Bool: return "bool";
    case ValueType::F32: return "f32";
    case ValueType::F64: return "f64";
    case ValueType::Void: return "void";
  }
  return "?";
}

std::string_view gp_name(uint32_t id) {
  constexpr std::string_view kNames[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  return id < 16 ? kNames[id] : "?";
}

bool is_nonvolatile_gp(uint32_t id) {
  return std::any_of(std::begin(kNonvolatileGps), std::end(kNonvolatileGps), [&](const GpRegister& g) { return g.id == id; });
}

bool is_float(ValueType type) { return type == ValueType::F32 || type == ValueType::F64; }

namespace {

// Letters, digits (not first), '_' and any byte of a UTF-8 sequence: a name a report can show, and which can
// never be mistaken for a generated "argument N".
bool is_identifier(std::string_view name) {
  auto letter = [](unsigned char c) { return c == '_' || c >= 0x80 || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); };
  if (name.empty() || !letter(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return letter(static_cast<unsigned char>(c)) || (c >= '0' && c <= '9');
  });
}

std::string generated_name(size_t index) { return fmt::format("argument {}", index + 1); }

}  // namespace

Expected<Signature> parse_signature(std::string_view text) {
  Signature sig;
  std::string_view params = text;
  if (auto arrow = text.find("->"); arrow != std::string_view::npos) {
    auto result = parse_type(trim(text.substr(arrow + 2)), text);
    if (!result) return result.error();
    sig.result = *result;
    params = text.substr(0, arrow);
  }
  params = trim(params);
  while (!params.empty()) {
    const size_t comma = params.find(',');
    std::string_view one = trim(params.substr(0, comma));
    params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
    Param p;
    std::string_view type = one;
    if (auto colon = one.find(':'); colon != std::string_view::npos) {
      p.name = std::string(trim(one.substr(0, colon)));
      type = trim(one.substr(colon + 1));
      if (p.name.empty()) return Error{fmt::format("empty parameter name in signature '{}'", text)};
      if (!is_identifier(p.name))
        return Error{fmt::format("parameter name '{}' is not an identifier in signature '{}'", p.name, text)};
    }
    auto t = parse_type(type, text);
    if (!t) return t.error();
    if (*t == ValueType::Void) return Error{fmt::format("a parameter cannot be void in signature '{}'", text)};
    p.type = *t;
    if (p.name.empty()) p.name = generated_name(sig.params.size());
    sig.params.push_back(std::move(p));
    if (sig.params.size() > 64) return Error{fmt::format("more than 64 parameters in signature '{}'", text.substr(0, 80))};
  }
  return sig;
}

std::string to_string(const Signature& signature) {
  std::string out;
  for (size_t i = 0; i < signature.params.size(); ++i) {
    const Param& p = signature.params[i];
    if (i) out += ',';
    if (p.name != generated_name(i)) out += p.name + ':';
    out += name(p.type);
  }
  return out + "->" + std::string(name(signature.result));
}

std::string format_value(ValueType type, uint64_t value) {
  switch (type) {
    case ValueType::I32: return fmt::format("{}", static_cast<int32_t>(value));
    case ValueType::U32: return fmt::format("{}", static_cast<uint32_t>(value));
    case ValueType::I64: return fmt::format("{}", static_cast<int64_t>(value));
    case ValueType::Bool: return static_cast<uint32_t>(value) ? "TRUE" : "FALSE";
    default: return fmt::format("{:#x}", value);
  }
}

}  // namespace w64stub::win64
