// Program: one stub as a sequence of x86-64 instructions whose operands may name symbols (Go's sym(SB)).
// The catalog builds Programs in C++; a Plan 9 front end builds the same thing from text. Emit lowers the
// symbol operands according to a relocation model and encodes everything with asmjit.
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/small_vector.hpp"
#include "w64stub/core/source_lines.hpp"

namespace w64stub {

// The memory at a symbol: Go's `sym+off(SB)` as a load or store operand.
struct SymbolMem {
  std::string symbol;
  int64_t offset = 0;
  uint32_t size = 0;  // access width in bytes
};

// The address of a symbol: Go's `$sym+off(SB)` as an immediate.
struct SymbolAddr {
  std::string symbol;
  int64_t offset = 0;
};

// A place in the code: the target of a jump or call (Go's `loop:` and `JMP loop`).
struct CodeLabel {
  std::string name;
};

// Registers, immediates and symbol-free memory are asmjit operands; symbols and labels are resolved by emit.
using Operand = std::variant<asmjit::Operand, SymbolMem, SymbolAddr, CodeLabel>;
// An instruction's operands: two in place, more (rare: IMUL3Q, SHLQ CX, AX, DX) on the heap.
using OperandList = SmallVector<Operand, 2>;

// A prefix that is its own statement in Plan 9 text (`REP; MOVSQ`).
enum class Prefix { None, Rep, Repne, Lock };

struct Instr {
  asmjit::InstId id = asmjit::x86::Inst::kIdNone;
  OperandList operands;  // Intel order: destination first
  SourceLoc loc;
  Prefix prefix = Prefix::None;
  bool reg_from_rm = false;  // register to register by the r/m-to-register opcode (8b, not 89): Go's MOVLQZX
  std::vector<uint8_t> raw;  // kIdNone with bytes: emitted as they are (Go's BYTE/WORD/LONG/QUAD in code)

  // kIdNone with one CodeLabel operand binds that label here; it emits no bytes.
  static Instr bind(std::string label, SourceLoc loc = {});
  const CodeLabel* bound_label() const;
};

// An import slot: an 8-byte cell holding the address of a function in a DLL (Go's `runtime·Sleep`).
struct Import {
  std::string symbol;
  std::string dll;
  std::string function;
  std::string signature;               // win64::Signature text; "" leaves it to a stand-in or unknown
  std::optional<uint32_t> data_offset;  // absolute models: a fixed place in the data section (else: after those)
};

// Initialised data the stub refers to (a length, a message).
struct DataSymbol {
  std::string symbol;
  std::vector<uint8_t> bytes;
  uint32_t align = 1;
  std::optional<uint32_t> data_offset;  // absolute models: a fixed place in the data section (else: after those)
};

// One TEXT symbol of a Program that holds several (link.hpp): its code starts at instrs[first_instr], where a
// label of its own name is bound (branches to it are CodeLabels), under its own linker-managed $N frame.
struct Function {
  std::string symbol;
  size_t first_instr = 0;
  int32_t declared_frame = 0;
  SourceLoc loc;
};

struct Program {
  std::string symbol;          // the TEXT symbol, e.g. "runtime·badcallback"
  SourceLoc loc;               // where the TEXT directive stands
  int32_t declared_frame = 0;  // Go's $N: the linker inserts sub/add rsp around the body
  std::vector<Instr> instrs;
  std::vector<Import> imports;
  std::vector<DataSymbol> data;
  // Symbols of other TEXT symbols or files this one reaches (CALL ·f(SB), MOVQ x(SB), AX): relocations in
  // the Image against external symbols, placed when it is instantiated with a binding for each.
  std::vector<std::string> externals;
  SourceLines source_lines;  // the text that SourceLoc::line indexes (1-based, from first_line), shared
  int first_line = 1;        // the line source_lines[0] is
  std::string source_file;                // the file source_lines hold; "" for any (hand-built Programs)
  // Several TEXT symbols linked into one (link.hpp), functions[0] being `symbol` at the code's start. Empty:
  // the Program is the one function `symbol` with `declared_frame`.
  std::vector<Function> functions;

  // The source text of a line, or "" when the program has none for it.
  std::string_view source_line(int line) const;
  // The text at loc, or "" when loc lies in another file (an #include) or past the end.
  std::string_view source_text(const SourceLoc& at) const;
  const Import* find_import(std::string_view symbol) const;
  const DataSymbol* find_data(std::string_view symbol) const;
  bool is_external(std::string_view symbol) const;
  bool is_function(std::string_view symbol) const;
  // Its functions, read in place: `functions`, or the one the Program is when that is empty.
  struct FunctionView {
    const std::string* symbol;
    size_t first_instr;
    int32_t declared_frame;
    const SourceLoc* loc;
  };
  size_t function_count() const { return functions.empty() ? 1 : functions.size(); }
  FunctionView function(size_t k) const {  // inline: emit reads it per function and instruction
    if (functions.empty()) return {&symbol, 0, declared_frame, &loc};
    const Function& f = functions[k];
    return {&f.symbol, f.first_instr, f.declared_frame, &f.loc};
  }
  // Every symbol an instruction names is declared as an import or data, and every label it names is bound
  // exactly once; the first that is not is an error.
  Status check_symbols() const;
};

// Appends the instructions and labels an asmjit Builder holds (e.g. FuncFrame's emitProlog/emitEpilog), so
// code written against asmjit's own frame helpers becomes a Program. Labels are named "L<id>".
Status append_builder(Program& program, const asmjit::BaseBuilder& builder, const SourceLoc& loc);

// "runtime·Sleep" -> "Sleep": the package-less name users type (also accepts "runtime.").
std::string short_symbol_name(std::string_view symbol);
// "other·labs", "·labs", "pkg.labs" -> "labs": the name after any package.
std::string_view bare_symbol_name(std::string_view symbol);

}  // namespace w64stub
