#include "w64stub/core/layout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

namespace w64stub {

namespace {

constexpr uint64_t kGo2012Base = 0x400000;
constexpr uint64_t kAbs64Base = 0x150000000;
constexpr uint64_t kRipCode = 0x140001000;  // a typical PE32+ .text; encodings do not depend on it
constexpr uint64_t kMaxDataSpan = 1 << 20;
constexpr uint32_t kMaxAlign = 4096;  // a page: what a loader keeps of an address when it moves a section

constexpr uint64_t kDataOffset = 0x1000;  // the data section, from the image base (a PE's first section page)
constexpr uint64_t kCodeOffset = 0x2000;

// "X", "runtime.X" and "runtime·X" all name runtime·X.
bool names_symbol(std::string_view wanted, std::string_view symbol) {
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

std::optional<uint64_t> Layout::address_of(std::string_view symbol) const {
  auto it = std::lower_bound(addresses.begin(), addresses.end(), symbol,
                             [](const SymbolAddress& a, std::string_view name) { return a.symbol < name; });
  if (it == addresses.end() || it->symbol != symbol) return std::nullopt;
  return it->address;
}

namespace {

// Every symbol must be reachable by the model's encodings, and the data must form one section. Sorted by
// address once: n log n for a file of many data symbols.
Status check_reach(Layout& layout) {
  const Model model = layout.model;
  std::vector<const SymbolAddress*> placed;
  placed.reserve(layout.addresses.size());
  for (const SymbolAddress& a : layout.addresses) {
    if (a.address > address_limit(model) - a.size)
      return Error{fmt::format("{} model: {} at {:#x} is out of reach (every byte must lie below {:#x}{})",
                               name(model), a.symbol, a.address, address_limit(model),
                               model == Model::Go2012 ? ": a sign-extended 32-bit displacement" : "")};
    placed.push_back(&a);
  }
  if (placed.empty()) return Ok{};
  std::sort(placed.begin(), placed.end(), [](const SymbolAddress* x, const SymbolAddress* y) { return x->address < y->address; });
  uint64_t hi = 0, reach = 0;
  const SymbolAddress* reaching = nullptr;  // of the symbols with bytes, the one that reaches furthest so far
  for (const SymbolAddress* p : placed) {
    const uint64_t end = p->address + p->size;
    hi = std::max(hi, end);
    if (p->size == 0) continue;  // no bytes: overlaps nothing
    if (reaching && p->address < reach)
      return Error{fmt::format("{} at {:#x} overlaps {} at {:#x}", reaching->symbol, reaching->address, p->symbol, p->address)};
    if (end > reach) reach = end, reaching = p;
  }
  const uint64_t lo = placed.front()->address;
  if (hi - lo > kMaxDataSpan)
    return Error{fmt::format("data symbols span {:#x} bytes ({:#x}..{:#x}); keep them within {:#x}", hi - lo, lo, hi,
                             kMaxDataSpan)};
  layout.data_address = lo;
  return Ok{};
}

}  // namespace

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

  for (const DataSymbol& d : program.data)
    if (d.align == 0 || (d.align & (d.align - 1)) || d.align > kMaxAlign)
      return Error{fmt::format("{}: alignment {} is not a power of two from 1 to {}", d.symbol, d.align, kMaxAlign)};

  if (model != Model::Rip) {
    // Symbols with a fixed data_offset first; the others follow the last of them, each aligned.
    uint64_t next = data_page;
    for (const Import& i : program.imports)
      if (i.data_offset) next = std::max(next, data_page + *i.data_offset + 8);
    for (const DataSymbol& d : program.data)
      if (d.data_offset) next = std::max(next, data_page + *d.data_offset + d.bytes.size());
    auto place = [&](const std::string& symbol, const std::optional<uint32_t>& fixed, uint64_t size, uint64_t align) {
      if (fixed) return SymbolAddress{symbol, data_page + *fixed, size, 1};
      const uint64_t at = align_up(next, align);
      next = at + size;
      return SymbolAddress{symbol, at, size, align};
    };
    layout.addresses.reserve(program.imports.size() + program.data.size());
    for (const Import& i : program.imports) layout.addresses.push_back(place(i.symbol, i.data_offset, 8, 8));
    for (const DataSymbol& d : program.data) layout.addresses.push_back(place(d.symbol, d.data_offset, d.bytes.size(), d.align));
    std::sort(layout.addresses.begin(), layout.addresses.end(),
              [](const SymbolAddress& x, const SymbolAddress& y) { return x.symbol < y.symbol; });
    auto twice = std::adjacent_find(layout.addresses.begin(), layout.addresses.end(),
                                    [](const SymbolAddress& x, const SymbolAddress& y) { return x.symbol == y.symbol; });
    if (twice != layout.addresses.end())  // check_symbols says so first, in emit
      return Error{fmt::format("{} is declared twice (as an import or data symbol) in {}", twice->symbol, program.symbol)};
  }

  for (const AddressOverride& o : overrides) {
    if (o.name == "code" || o.name == "data") continue;
    auto it = std::find_if(layout.addresses.begin(), layout.addresses.end(),
                           [&](const SymbolAddress& a) { return names_symbol(o.name, a.symbol); });
    if (model == Model::Rip)
      return Error{fmt::format("--addr {}: the rip model places data right after the code; only 'code' can be set",
                               o.name)};
    if (it == layout.addresses.end()) {
      std::string known = "code, data";
      for (const SymbolAddress& a : layout.addresses) known += ", " + short_symbol_name(a.symbol);
      return Error{fmt::format("--addr {}: {} has no such symbol (known: {})", o.name, program.symbol, known)};
    }
    it->address = o.address;
    it->align = 1;
  }
  for (const SymbolAddress& a : layout.addresses) layout.data_align = std::max(layout.data_align, a.align);

  if (layout.code_address >= kUserSpaceEnd)
    return Error{fmt::format("code address {:#x} is not a user-space address (must be below {:#x})",
                             layout.code_address, kUserSpaceEnd)};
  if (model == Model::Rip) return layout;

  if (auto reach = check_reach(layout); !reach) return reach.error();
  return layout;
}

}  // namespace w64stub
