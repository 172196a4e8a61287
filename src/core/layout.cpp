#include "w64stub/core/layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

namespace w64stub {

namespace {

constexpr uint64_t kGo2012Base = 0x400000;
constexpr uint64_t kAbs64Base = 0x150000000;
constexpr uint64_t kRipCode = 0x140001000;  // a typical PE32+ .text; encodings do not depend on it
constexpr uint64_t kUserSpaceEnd = 0x0000800000000000;
constexpr uint64_t kMaxDataSpan = 1 << 20;

constexpr uint64_t kDataOffset = 0x1000;  // the data section, from the image base (a PE's first section page)
constexpr uint64_t kCodeOffset = 0x2000;

// "X", "runtime.X" and "runtime·X" all name runtime·X.
bool names_symbol(std::string_view wanted, const std::string& symbol) {
  return short_symbol_name(wanted) == short_symbol_name(symbol);
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

std::string_view name(Model model) {
  switch (model) {
    case Model::Go2012: return "go2012";
    case Model::Rip: return "rip";
    case Model::Abs64: return "abs64";
  }
  return "?";
}

std::string_view name(Policy policy) { return policy == Policy::As ? "as" : "size"; }

Expected<Model> parse_model(std::string_view text) {
  for (Model m : kModels)
    if (name(m) == text) return m;
  return Error{fmt::format("unknown model '{}' (expected go2012, rip or abs64)", text)};
}

Expected<Policy> parse_policy(std::string_view text) {
  for (Policy p : kPolicies)
    if (name(p) == text) return p;
  return Error{fmt::format("unknown policy '{}' (expected as or size)", text)};
}

Expected<AddressOverride> parse_address_override(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return Error{fmt::format("malformed address '{}' (expected NAME=VALUE, e.g. Sleep=0x401008)", text)};
  std::string_view value = text.substr(eq + 1);
  int base = 10;
  if (value.starts_with("0x") || value.starts_with("0X")) {
    value.remove_prefix(2);
    base = 16;
  }
  uint64_t address = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), address, base);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
    return Error{fmt::format("malformed address value '{}' in '{}' (expected a decimal or 0x-prefixed number "
                             "below 2^64)", text.substr(eq + 1), text)};
  return AddressOverride{std::string(text.substr(0, eq)), address};
}

uint64_t address_limit(Model model) { return model == Model::Go2012 ? uint64_t{1} << 31 : kUserSpaceEnd; }

// Every symbol must be reachable by the model's encodings, and the data must form one section. Sorted by
// address once: n log n for a file of many data symbols.
Status check_reach(const Program& program, Layout& layout) {
  const Model model = layout.model;
  std::map<std::string_view, uint64_t> data_size;
  for (const DataSymbol& d : program.data) data_size.emplace(d.symbol, d.bytes.size());
  struct Placed {
    uint64_t at, end;
    const std::string* symbol;
  };
  std::vector<Placed> placed;
  placed.reserve(layout.addresses.size());
  for (const auto& [symbol, at] : layout.addresses) {
    const auto d = data_size.find(symbol);
    const uint64_t size = d != data_size.end() ? d->second : 8;
    if (at > address_limit(model) - size)
      return Error{fmt::format("{} model: {} at {:#x} is out of reach (every byte must lie below {:#x}{})",
                               name(model), symbol, at, address_limit(model),
                               model == Model::Go2012 ? ": a sign-extended 32-bit displacement" : "")};
    placed.push_back({at, at + size, &symbol});
  }
  if (placed.empty()) return Ok{};
  std::sort(placed.begin(), placed.end(), [](const Placed& x, const Placed& y) { return x.at < y.at; });
  uint64_t hi = 0, reach = 0;
  const Placed* reaching = nullptr;  // of the symbols with bytes, the one that reaches furthest so far
  for (const Placed& p : placed) {
    hi = std::max(hi, p.end);
    if (p.end == p.at) continue;  // no bytes: overlaps nothing
    if (reaching && p.at < reach)
      return Error{fmt::format("{} at {:#x} overlaps {} at {:#x}", *reaching->symbol, reaching->at, *p.symbol, p.at)};
    if (p.end > reach) reach = p.end, reaching = &p;
  }
  const uint64_t lo = placed.front().at;
  if (hi - lo > kMaxDataSpan)
    return Error{fmt::format("data symbols span {:#x} bytes ({:#x}..{:#x}); keep them within {:#x}", hi - lo, lo, hi,
                             kMaxDataSpan)};
  layout.data_address = lo;
  return Ok{};
}

Expected<Layout> plan_layout(const Program& program, Model model, std::span<const AddressOverride> overrides) {
  Layout layout;
  layout.model = model;
  const uint64_t base = model == Model::Abs64 ? kAbs64Base : kGo2012Base;
  layout.code_address = model == Model::Rip ? kRipCode : base + kCodeOffset;
  uint64_t data_page = base + kDataOffset;

  for (const AddressOverride& o : overrides) {
    if (o.name == "code") layout.code_address = o.address;
    else if (o.name == "data") data_page = o.address;
    if (o.name == "data" && model == Model::Rip)
      return Error{"--addr data: the rip model places data right after the code; only 'code' can be set"};
  }

  if (model != Model::Rip) {
    // Symbols with a fixed data_offset first; the others follow the last of them, each aligned.
    uint64_t next = data_page;
    for (const Import& i : program.imports)
      if (i.data_offset) next = std::max(next, data_page + *i.data_offset + 8);
    for (const DataSymbol& d : program.data)
      if (d.data_offset) next = std::max(next, data_page + *d.data_offset + d.bytes.size());
    auto place = [&](const std::optional<uint32_t>& fixed, uint64_t size, uint64_t align) {
      if (fixed) return data_page + *fixed;
      uint64_t at = align_up(next, std::max<uint64_t>(align, 1));
      next = at + size;
      return at;
    };
    for (const Import& i : program.imports) layout.addresses[i.symbol] = place(i.data_offset, 8, 8);
    for (const DataSymbol& d : program.data) layout.addresses[d.symbol] = place(d.data_offset, d.bytes.size(), d.align);
  }

  for (const AddressOverride& o : overrides) {
    if (o.name == "code" || o.name == "data") continue;
    auto it = std::find_if(layout.addresses.begin(), layout.addresses.end(),
                           [&](const auto& kv) { return names_symbol(o.name, kv.first); });
    if (model == Model::Rip)
      return Error{fmt::format("--addr {}: the rip model places data right after the code; only 'code' can be set",
                               o.name)};
    if (it == layout.addresses.end()) {
      std::string known = "code, data";
      for (const auto& kv : layout.addresses) known += ", " + short_symbol_name(kv.first);
      return Error{fmt::format("--addr {}: {} has no such symbol (known: {})", o.name, program.symbol, known)};
    }
    it->second = o.address;
  }

  if (layout.code_address >= kUserSpaceEnd)
    return Error{fmt::format("code address {:#x} is not a user-space address (must be below {:#x})",
                             layout.code_address, kUserSpaceEnd)};
  if (model == Model::Rip) return layout;

  if (auto reach = check_reach(program, layout); !reach) return reach.error();
  return layout;
}

}  // namespace w64stub
