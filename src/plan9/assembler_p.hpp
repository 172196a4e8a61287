// The Plan 9 assembler's state (asm.cpp: statements and instructions; directives.cpp: TEXT, GLOBL, DATA,
// #pragma and the data a file defines).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch_p.hpp"
#include "operand_p.hpp"
#include "w64stub/plan9/asm.hpp"

namespace w64stub::plan9 {

namespace x86 = asmjit::x86;
using plan9::Arg;
using plan9::Form;
using plan9::Mnemonic;
using plan9::find_mnemonic;
using plan9::immediate_fits;
using plan9::sized_gp;
using plan9::text_flags;
using plan9::Reg;
using plan9::Statement;
using plan9::Token;
using plan9::TokenKind;

inline bool is(const Token& t, std::string_view punct) { return t.kind == TokenKind::Punct && t.text == punct; }

struct GlobalData {
  std::string_view symbol;  // a view of the GLOBL's token
  SourceLoc loc;  // the GLOBL
  std::vector<uint8_t> bytes;
};

// A DATA statement, applied to its GLOBL when the file is read: at most 8 bytes, its symbol a view of the
// statement's tokens (which outlive the Assembler's run).
struct DataWrite {
  std::string_view symbol;
  plan9::TokenLoc loc;
  int64_t offset;
  uint8_t bytes[8];
  uint32_t width;
};

// A statement's first word, when it is one of the directives.
enum class Directive : uint8_t { None, Text, Globl, Data, Funcdata, Pcdata, Adjsp };

// One TEXT symbol being assembled.
struct Body {
  Program program;
  std::map<std::string, SourceLoc> labels;
  std::vector<size_t> prog_starts;                     // per Plan 9 instruction (REP counts): its Instr index
  std::vector<std::pair<size_t, int64_t>> pc_targets;  // (Prog index of the branch, N) for N(PC)
  std::vector<SourceLoc> pc_locs;
  int32_t push_depth = 0;  // bytes pushed so far: FP offsets move with PUSHQ/POPQ, as in 6l
  Prefix pending = Prefix::None;
  SourceLoc pending_loc;
};

// Takes a file's statements as the preprocessor reads them (a statement's tokens live only as long as its
// line), then makes the file's Programs.
class Assembler final : public plan9::StatementSink {
 public:
  Assembler(const std::string& path, const plan9::SourceStore& source) : path_(path), source_(source) {
    // Room for a small file's declarations and symbols (they come one at a time): vectors that start empty
    // grow by copying, five times before a stub's eight DATAs are in.
    done_.reserve(4), symbols_.reserve(4), imports_.reserve(4), globals_.reserve(4), writes_.reserve(16);
  }
  void take(const Statement& s) override;
  Plan9File finish();

 private:
  Status statement(const Statement& s, Directive directive);
  Status text(const Statement& s);
  void end_body();
  Status globl(const Statement& s);
  Status data(const Statement& s);
  Status pragma(const Statement& s);
  Status instruction(const Statement& s, const Mnemonic& m);
  Status adjsp(const Statement& s);
  Status add_operand(Instr& instr, const Arg& a, uint32_t size, bool address_only = false);
  Status lower_shift(const Mnemonic& m, const Token& mnemonic, std::span<const Arg> args, Instr& instr);
  Status lower_auto(const Mnemonic& m, std::span<const Arg> args, Instr& instr);
  Status lower_operands(const Mnemonic& m, const Token& mnemonic, std::span<const Arg> args, Instr& instr);
  Status finish_body();
  void finish_data(Plan9File& file);
  void refuse(Plan9File& file, std::string symbol, Error error);
  Expected<Operand> lower(const Arg& a, uint32_t size, bool address_only = false);
  // `last`: no Program after this one takes declarations, which it may then take by moving them.
  Status attach_symbols(Program& p, bool last);
  Error at(const SourceLoc& loc, std::string what) const { return Error::at(loc, std::move(what)); }

  const std::string& path_;
  const plan9::SourceStore& source_;
  Plan9File file_;
  bool skipping_ = false;  // the rest of a TEXT symbol that had an error
  size_t scanned_to_ = 0;  // the main file's lines up to here were read for a body's room (body_lines)
  std::vector<Program> done_;
  std::optional<Body> body_;
  std::vector<Import> imports_;
  std::vector<GlobalData> globals_;
  std::vector<DataWrite> writes_;
  std::map<std::string_view, SourceLoc> text_symbols_;  // by a view of the TEXT's token
  std::vector<std::string> symbols_;  // TEXT symbols in file order
  // By name (a view of the declaring statement's token): their place in imports_/globals_, so that a file of
  // many is not searched linearly.
  std::map<std::string_view, size_t> import_at_, global_at_;
  std::map<std::string, std::vector<uint8_t>, std::less<>> floats_;  // floating constants, by Go's name for them
  uint32_t float_width_ = 8;  // of the instruction being lowered: 4 for the single-precision (…SS) ones
  // Reused statement to statement (a statement's operands are split and parsed here), held in place for the
  // usual counts (an instruction has at most four operands); more go to the heap.
  plan9::Ranges ranges_;
  SmallVector<Arg, 4> args_;
};


}  // namespace w64stub::plan9
