// Layout: where a Program's code, import slots and data live, by relocation model, and how their
// references are encoded (policy). The layouts are DESIGN.md's; addresses can be overridden.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

// go2012: absolute 32-bit addresses, as a PE linked at 0x400000 (data page 0x401000, code 0x402000).
// rip: position-independent; data follows the code, reached RIP-relative.
// abs64: the go2012 layout based at 0x150000000, reached through 64-bit immediates.
enum class Model { Go2012, Rip, Abs64 };
inline constexpr Model kModels[] = {Model::Go2012, Model::Rip, Model::Abs64};

// as: what GNU as / llvm-mc emit by default. size: the shortest forms (nasm, as -O2).
enum class Policy { As, Size };
inline constexpr Policy kPolicies[] = {Policy::As, Policy::Size};

std::string_view name(Model model);
std::string_view name(Policy policy);
Expected<Model> parse_model(std::string_view text);
Expected<Policy> parse_policy(std::string_view text);

// NAME=VALUE: NAME is `code`, `data` (the data block's base) or a symbol (runtime·X, runtime.X or X).
struct AddressOverride {
  std::string name;
  uint64_t address = 0;
};
Expected<AddressOverride> parse_address_override(std::string_view text);

// Where an import slot or a data symbol lies (absolute models).
struct SymbolAddress {
  std::string_view symbol;  // the Program's own name (see plan_layout)
  uint64_t address = 0;
  uint64_t size = 0;  // bytes: 8 for an import slot
  uint64_t align = 1;  // what the layout aligned it to: 1 when a data_offset or an override fixed it
};

struct Layout {
  Model model = Model::Go2012;
  uint64_t code_address = 0;
  uint64_t data_address = 0;             // absolute models: start of the data section
  std::vector<SymbolAddress> addresses;  // absolute models: every import slot and data symbol, by name
  // Absolute models: the largest alignment the layout gave a symbol. Moved by a multiple of it, the data
  // keeps this layout; by anything else, emit would align its symbols differently.
  uint64_t data_align = 1;

  // The address of an import slot or data symbol; nullopt when the layout has none of that name.
  std::optional<uint64_t> address_of(std::string_view symbol) const;
};

// The Layout names symbols by the Program's own strings: use it while the Program lives, unchanged.
Expected<Layout> plan_layout(const Program& program, Model model, std::span<const AddressOverride> overrides = {});
// Not of a temporary Program: its names would be gone before the Layout is read.
Expected<Layout> plan_layout(Program&& program, Model model, std::span<const AddressOverride> overrides = {}) = delete;

// Largest address (exclusive) a model can reach with its encodings.
uint64_t address_limit(Model model);
// Code must start below it in every model: user space's end on x64.
inline constexpr uint64_t kUserSpaceEnd = 0x0000800000000000;

}  // namespace w64stub
