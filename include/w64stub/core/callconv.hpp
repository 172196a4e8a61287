// Callconv: the Win64 calling convention, described once. Frame planning, the harness, the probe and the
// reports all take it from here; callconv_test checks it against asmjit's own CallConv for kX64Windows.
//
// At a function's entry RSP = 8 (mod 16); at each CALL RSP = 0 (mod 16) and [RSP, RSP+32) is the callee's home
// (shadow) area. Arguments 1-4 go in RCX, RDX, R8, R9 (integers and pointers) or XMM0-XMM3 (floating point),
// by position; argument 5 and later at [RSP+32], [RSP+40], ... at the CALL. RAX (XMM0) returns. Nonvolatile:
// RBX, RBP, RDI, RSI, R12-R15, XMM6-XMM15, RSP, the MXCSR control bits; DF is clear at every call and return.
#pragma once

#include <asmjit/x86.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"

namespace w64stub::win64 {

inline constexpr int32_t kHomeArea = 32;     // bytes the caller reserves above the return address
inline constexpr int32_t kSlot = 8;          // every argument takes one 8-byte slot
inline constexpr int kCallAlignment = 16;    // RSP mod 16 at a CALL is 0
inline constexpr int kEntryResidue = 8;      // RSP mod 16 at a function's first instruction
inline constexpr int kRegisterArguments = 4;
inline constexpr uint32_t kDefaultMxcsr = 0x1F80;  // all exceptions masked, round to nearest
// MXCSR[0:5], the exception status flags, are volatile; the control bits above them are nonvolatile.
inline constexpr uint32_t kMxcsrStatusFlags = 0x3F;
inline constexpr int kDirectionFlagBit = 10;       // RFLAGS.DF

// A general-purpose register by its asmjit id and its name.
struct GpRegister {
  uint32_t id;
  std::string_view name;
};

namespace gp {
using asmjit::x86::Gp;
}  // namespace gp

inline constexpr GpRegister kIntegerArguments[] = {
    {gp::Gp::kIdCx, "rcx"}, {gp::Gp::kIdDx, "rdx"}, {gp::Gp::kIdR8, "r8"}, {gp::Gp::kIdR9, "r9"}};
inline constexpr GpRegister kNonvolatileGps[] = {
    {gp::Gp::kIdBx, "rbx"},  {gp::Gp::kIdBp, "rbp"},  {gp::Gp::kIdDi, "rdi"},  {gp::Gp::kIdSi, "rsi"},
    {gp::Gp::kIdR12, "r12"}, {gp::Gp::kIdR13, "r13"}, {gp::Gp::kIdR14, "r14"}, {gp::Gp::kIdR15, "r15"}};
inline constexpr GpRegister kVolatileGps[] = {
    {gp::Gp::kIdAx, "rax"}, {gp::Gp::kIdCx, "rcx"},   {gp::Gp::kIdDx, "rdx"},   {gp::Gp::kIdR8, "r8"},
    {gp::Gp::kIdR9, "r9"},  {gp::Gp::kIdR10, "r10"}, {gp::Gp::kIdR11, "r11"}};
inline constexpr int kFloatArguments = 4;        // XMM0-XMM3
inline constexpr int kVolatileXmms = 6;          // XMM0-XMM5
inline constexpr int kFirstNonvolatileXmm = 6;   // XMM6-XMM15
inline constexpr int kNonvolatileXmms = 10;

// A general-purpose register's 64-bit name by its number ("rbx" for 3), and whether Win64 keeps it.
std::string_view gp_name(uint32_t id);
bool is_nonvolatile_gp(uint32_t id);

// Where argument `index` (0-based) is at a function's first instruction, relative to RSP there: its home slot
// (arguments 1-4, spilled only if the callee chooses) or its stack slot (5 and later): 8 + 8 * index.
constexpr int32_t entry_slot(int index) { return kSlot + kSlot * index; }
// The same slot relative to RSP at the CALL.
constexpr int32_t call_slot(int index) { return kSlot * index; }

// What a value is, as far as passing and showing it goes.
enum class ValueType {
  I32,    // a 32-bit signed integer (e.g. GetStdHandle's nStdHandle); the upper half of the register is garbage
  U32,    // DWORD
  I64,
  U64,
  Ptr,    // any pointer or handle
  Out32,  // a pointer to a DWORD the callee fills (lpNumberOfBytesWritten)
  Bool,   // BOOL: FALSE means the call failed and the thread's last error says why
  F32,
  F64,
  Void,   // results only
};
std::string_view name(ValueType type);
bool is_float(ValueType type);

struct Param {
  std::string name;
  ValueType type = ValueType::U64;
};

struct Signature {
  std::vector<Param> params;
  ValueType result = ValueType::U64;

  int count() const { return static_cast<int>(params.size()); }
  // Bytes of stack arguments a caller owes beyond the home area.
  int32_t stack_bytes() const { return kSlot * std::max(0, count() - kRegisterArguments); }
};

// "name:type,name:type->result", e.g. "hFile:ptr,nNumberOfBytesToWrite:u32->bool"; names may be left out
// ("u32,ptr"), a missing result is u64. Types: i32 u32 i64 u64 ptr out32 bool f32 f64 (void for results).
Expected<Signature> parse_signature(std::string_view text);
std::string to_string(const Signature& signature);

// A value as people read it: i32 signed decimal (of the low half), u32 decimal, bool TRUE/FALSE,
// pointers and 64-bit values hex.
std::string format_value(ValueType type, uint64_t value);

}  // namespace w64stub::win64
