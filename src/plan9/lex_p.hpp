// Plan 9 lexing and preprocessing, after Go's cmd/asm `lex`: comments, #include (from the including file's
// directory, then the include path), #define (object-like and function-like, continued with `\`), #undef,
// #ifdef/#ifndef/#else/#endif and `#pragma dynimport SYMBOL FUNCTION "DLL"` (Go 2012's C-side import
// declaration). Out come statements: one instruction, directive or label each (`;` separates them).
#pragma once

#include <cstdint>
#include <forward_list>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/plan9/asm.hpp"

namespace w64stub::plan9 {

enum class TokenKind { Ident, Number, String, Punct };

// Text tokens view, at addresses that stay: each included file's text, the main file's when its comments
// were taken out first (it has a /* comment; else its tokens view its SourceLines' text), and the bytes of
// strings and character constants that needed decoding. A token copies no text. A list's nodes stay where
// they are when it moves, and an empty one allocates nothing.
using TokenText = std::forward_list<std::string>;

// Where a token stands. Its file's name is not owned but pointed to (it lives in the SourceStore's
// `files`), so that a token is plain bytes: made, copied and dropped without touching a shared count. It
// becomes a SourceLoc for a message or an Instr.
struct TokenLoc {
  const FileName* file = nullptr;
  int line = 0, column = 0;

  operator SourceLoc() const { return {file ? *file : FileName(), line, column}; }
  std::string str() const { return SourceLoc(*this).str(); }
  bool same_file(const TokenLoc& other) const {
    return file == other.file || (file && other.file && *file == *other.file);
  }
};

struct Token {
  TokenKind kind = TokenKind::Punct;
  std::string_view text;  // as written; for a String the decoded bytes (the text itself when it has no escape)
  uint64_t value = 0;  // Number (and character constants)
  bool floating = false;  // a Number with a fraction or exponent (0.5, 1e-3): its value is `real`
  double real = 0;
  TokenLoc loc;        // where it stands; for macro output, where the macro was used
};

// A statement's tokens: a run of the tokens of the logical line it is on (after macro expansion).
using Tokens = std::span<const Token>;

struct Statement {
  enum Kind { Instruction, Label, Pragma };
  Kind kind = Instruction;
  Tokens tokens;  // Label: the name; Pragma: the words after `#pragma`
  TokenLoc loc;
  size_t first = 0, count = 0;  // while it is read: tokens is [first, first + count) of the line's tokens
};


// The include path, the reader and -D macros: an assembly's own options, read in place (a reader's closure
// may hold every file's text; it is not copied).
using LexOptions = Plan9Options;

// What tokens view and point to, held for as long as anything made from them: names and locations outlive
// the statements.
struct SourceStore {
  SourceLines main_lines;  // the main file's lines, for listings and errors: every Program of the file shares them
  const FileName* main_file = nullptr;  // what the main file's tokens' locations point to
  TokenText text;                       // what tokens view, besides main_lines' text
  std::forward_list<FileName> files;    // what their locations name
};

// Takes the statements as they are read, in order. A statement and its tokens are valid during the call
// only: a file's tokens are never all held at once (a token is 64 bytes; a large file has millions).
class StatementSink {
 public:
  virtual void take(const Statement& s) = 0;

 protected:
  ~StatementSink() = default;
};

// Reads `path` and what it includes into `store`, each statement to `sink`. On an error, the statements
// before it have been taken.
Status preprocess(const std::string& path, const LexOptions& options, SourceStore& store, StatementSink& sink);

// Every statement of a file and their tokens, collected (the tests read them whole).
struct Preprocessed : SourceStore {
  std::vector<Statement> statements;
  std::vector<Token> tokens;  // every statement's, in order
};
Expected<Preprocessed> preprocess(const std::string& path, const LexOptions& options = {});

// A short rendering of tokens for error messages: "MOVQ AX, 0(SP)".
std::string spell(Tokens tokens, size_t from = 0, size_t to = SIZE_MAX);

}  // namespace w64stub::plan9
