// One physical line of Plan 9 text into tokens (lex_p.hpp): identifiers (runtime·x, name<>), numbers in
// three bases and floating constants, strings and character constants with their escapes, punctuation.
// The preprocessor (lex.cpp) joins lines, follows directives and expands macros around it.
#pragma once

#include <string_view>
#include <vector>

#include "lex_p.hpp"

namespace w64stub::plan9 {

class LineLexer {
 public:
  // `text` must outlive the tokens (it is in `storage`, or is the storage of its caller's tokens' lifetime);
  // decoded strings go to `storage`.
  LineLexer(std::string_view text, const FileName& file, int line, TokenText& storage)
      : text_(text), file_(&file), line_(line), storage_(storage) {}

  // The tokens go to the end of `out`; on an error, those before it stay there.
  Status run(std::vector<Token>& out);
  // Whether run() made a `;` or `:` token: else the line is one statement, found without reading it again.
  bool separated() const { return separated_; }

 private:
  const char* angle(Token& t, const char* q) const;
  Status other(unsigned char c, Token& t);
  Status number(Token& t);
  size_t plain_decimal(size_t start) const;
  bool float_at(size_t start) const;
  Status floating(Token& t, size_t start);
  Status unit(char quote, char& out, const TokenLoc& at);
  Status string(Token& t);
  Status character(Token& t);

  std::string_view text_;
  const FileName* file_;
  int line_;
  TokenText& storage_;
  size_t pos_ = 0;  // where other() and what it calls read
  bool separated_ = false;
};

}  // namespace w64stub::plan9
