#include "lex_p.hpp"

#include "comments_p.hpp"
#include "line_lexer_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace w64stub::plan9 {

namespace {

constexpr int kMaxIncludeDepth = 32;
constexpr int kMaxExpansionDepth = 64;
// Tokens a file's macros may make in all, however large the file: what expansions build (a line, a macro's
// arguments) is held at once. A file's own tokens are bounded by its size (kMaxSourceBytes), and streamed.
constexpr size_t kMaxMacroTokens = size_t{1} << 20;
constexpr size_t kMaxSourceBytes = size_t{64} << 20;  // the file and everything it includes
// A logical line (physical lines joined by backslashes) is lexed whole before any of it is checked: a 64 MiB
// line of one-character tokens would be held as 32 million tokens (2 GB). Go's longest lines are near 120
// bytes, its longest continued #define a few KB.
constexpr size_t kMaxLineBytes = size_t{1} << 20;

// Read at its size, into the string kept: a stringstream grows by copying and then copies out, and a
// large file's fresh pages are a large part of assembling it.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0 || !in.seekg(0)) return std::nullopt;
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) return std::nullopt;
  return text;
}

// A text's physical lines, one at a time: every newline ends one, and what follows the last newline is one
// more (perhaps empty).
class Lines {
 public:
  explicit Lines(std::string_view text) : rest_(text) {}
  // The same, read from the lines `split` already found in `text` (SourceLines::split's, which leave out the
  // empty line after a final newline): the text is not searched for newlines twice.
  Lines(std::string_view text, const SourceLines& split)
      : split_(&split), final_newline_(!text.empty() && text.back() == '\n') {}
  bool done() const { return done_; }
  int number() const { return number_; }  // the last line's, from 1

  // The next line without its trailing spaces, tabs and carriage returns; `more`: another line follows.
  std::string_view next(bool& more) {
    std::string_view line;
    if (split_) {
      const auto k = static_cast<size_t>(number_);
      if (k < split_->size()) line = (*split_)[k];
      more = k + 1 < split_->size() || (k + 1 == split_->size() && final_newline_);
    } else {
      const auto* newline = static_cast<const char*>(std::memchr(rest_.data(), '\n', rest_.size()));
      line = rest_.substr(0, newline ? static_cast<size_t>(newline - rest_.data()) : rest_.size());
      more = newline != nullptr;
      if (more) rest_.remove_prefix(line.size() + 1);
    }
    done_ = !more;
    ++number_;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    return line;
  }

 private:
  std::string_view rest_;
  const SourceLines* split_ = nullptr;
  bool final_newline_ = false;
  bool done_ = false;
  int number_ = 0;
};

struct Macro {
  bool function_like = false;
  std::vector<std::string> params;
  std::vector<Token> body;
};

bool is(const Token& t, char punct) { return t.kind == TokenKind::Punct && t.text.size() == 1 && t.text[0] == punct; }

class Preprocessor {
 public:
  explicit Preprocessor(const LexOptions& options) : options_(options) {}

  Status run(const std::string& path, SourceStore& store, StatementSink& sink) {
    store_ = &store;
    sink_ = &sink;
    tokens_.reserve(64);  // a line's tokens, and its statements: room for most lines from the start
    statements_.reserve(16);
    for (const std::string& d : options_.defines) {  // -D NAME[=VALUE]: VALUE defaults to 1, as cpp's
      const size_t eq = d.find('=');
      TokenText& text = store.text;
      const std::string_view name = text.emplace_front(d.substr(0, eq));
      const std::string_view value = text.emplace_front(eq == std::string::npos ? "1" : d.substr(eq + 1));
      std::vector<Token> name_tokens, body;
      const FileName& at = store.files.emplace_front("-D " + d);
      if (!LineLexer(name, at, 0, text).run(name_tokens) || name_tokens.size() != 1 || name_tokens[0].kind != TokenKind::Ident)
        return Error{fmt::format("-D {}: expected NAME or NAME=VALUE", d)};
      if (auto s = LineLexer(value, at, 0, text).run(body); !s) return Error{fmt::format("-D {}: {}", d, s.error().message)};
      macros_[std::string(name)] = Macro{false, {}, std::move(body)};
    }
    return file(path, 0, {path, 0, 0}, true);
  }

 private:
  struct Condition {
    bool taking;     // this branch's lines are assembled (given the enclosing ones are)
    bool seen_else;
    SourceLoc loc;
  };

  Status file(const std::string& path, int depth, const SourceLoc& from, bool main);
  Status directive(const std::vector<Token>& tokens, const std::string& path, int depth,
                   std::vector<Condition>& conditions);
  Status expand(const std::vector<Token>& in, std::vector<Token>& out, int depth, const TokenLoc* use);
  Status logical_line(Lines& lines, const FileName& name, size_t mark);
  bool names_macro(size_t mark) const;
  void statements(size_t mark);
  void flush();
  void add_statement(Statement::Kind kind, std::vector<Token>::const_iterator from, std::vector<Token>::const_iterator to,
                     const TokenLoc& loc);
  std::optional<std::string> read(const std::string& path) const {
    return options_.read ? options_.read(path) : read_file(path);
  }
  bool active(const std::vector<Condition>& conditions) const {
    for (const Condition& c : conditions)
      if (!c.taking) return false;
    return true;
  }

  const LexOptions& options_;
  SourceStore* store_ = nullptr;
  StatementSink* sink_ = nullptr;
  // The logical line being read: its tokens and the statements that view them, until flush() hands them on.
  std::vector<Token> tokens_;
  std::vector<Statement> statements_;
  std::map<std::string, Macro, std::less<>> macros_;
  std::set<std::string, std::less<>> disabled_;  // macros being expanded: not expanded again inside themselves
  bool separated_ = false;  // the logical line being read has a ; or : (else it is one statement)
  size_t produced_ = 0;
  size_t source_bytes_ = 0;  // read so far, the main file and its #includes
};

Status Preprocessor::file(const std::string& path, int depth, const SourceLoc& from, bool main) {
  if (depth > kMaxIncludeDepth) return Error::at(from, fmt::format("#include nests deeper than {} (a cycle?)", kMaxIncludeDepth));
  std::error_code ec;
  if (!options_.read && std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    const std::string what = fmt::format("{} is not a regular file (a directory, device or FIFO): refused", path);
    return main ? Error{what} : Error::at(from, what);
  }
  auto text = read(path);
  if (!text) return main ? Error{fmt::format("{}: cannot read", path)} : Error::at(from, fmt::format("cannot read {}", path));
  if ((source_bytes_ += text->size()) > kMaxSourceBytes)
    return main ? Error{fmt::format("{}: larger than {} MiB", path, kMaxSourceBytes >> 20)}
                : Error::at(from, fmt::format("the file and its #includes pass {} MiB", kMaxSourceBytes >> 20));
  const FileName& name = store_->files.emplace_front(path);  // one for every token of the file
  if (main) store_->main_file = &name;
  // /* comments may span lines: a file with one has its comments taken out first. Else the line lexer ends
  // each line at its // comment, and the text is not read twice.
  const bool block_comments = text->find("/*") != std::string::npos;
  std::string_view source;  // what the file's tokens view
  if (main && !block_comments) {  // the lines kept for listings hold the one copy of the text
    store_->main_lines = SourceLines::split(std::move(*text));
    source = store_->main_lines.text();
  } else {
    if (main) store_->main_lines = SourceLines::split(*text);
    if (block_comments) {
      auto blanked = strip_comments(std::move(*text), name);
      if (!blanked) return blanked.error();
      *text = std::move(*blanked);
    }
    source = store_->text.emplace_front(std::move(*text));
  }

  std::vector<Condition> conditions;
  std::vector<Token> moved;  // a directive's or a macro line's tokens, out of tokens_ (an #include reuses it); reused
  // The main file's lines are found once, for its SourceLines, and read from there when its text is theirs.
  for (Lines lines = main && !block_comments ? Lines(source, store_->main_lines) : Lines(source); !lines.done();) {
    // A logical line: physical lines joined where one ends in a backslash. Its tokens go to tokens_, where a
    // plain line's statements view them; they are handed on when the line is done (an #include's lines are
    // handed on before the #include line is done).
    const size_t mark = tokens_.size();
    separated_ = false;
    if (auto s = logical_line(lines, name, mark); !s && active(conditions)) return s;  // a branch not taken need not lex
    if (tokens_.size() == mark) continue;
    const bool directive_line = is(tokens_[mark], '#');
    if (!directive_line && !active(conditions)) {
      tokens_.resize(mark);
    } else if (!directive_line && !names_macro(mark)) {
      if (separated_) statements(mark);
      else statements_.push_back({Statement::Instruction, {}, tokens_[mark].loc, mark, tokens_.size() - mark});
    } else {
      moved.assign(tokens_.begin() + static_cast<std::ptrdiff_t>(mark), tokens_.end());
      tokens_.resize(mark);
      if (auto s = directive_line ? directive(moved, path, depth, conditions) : expand(moved, tokens_, 0, nullptr); !s)
        return s;
      if (!directive_line) statements(mark);
    }
    flush();
  }
  if (!conditions.empty()) return Error::at(conditions.back().loc, "#ifdef/#ifndef without #endif");
  return Ok{};
}

Status Preprocessor::directive(const std::vector<Token>& t, const std::string& path, int depth,
                               std::vector<Condition>& conditions) {
  const SourceLoc& at = t[0].loc;
  if (t.size() < 2 || t[1].kind != TokenKind::Ident) return Error::at(at, "expected a directive after #");
  const std::string_view name = t[1].text;
  auto one_name = [&](std::string_view what) -> Expected<std::string> {
    if (t.size() != 3 || t[2].kind != TokenKind::Ident)
      return Error::at(at, fmt::format("#{} expects one name", what));
    return std::string(t[2].text);
  };
  if (name == "ifdef" || name == "ifndef") {
    auto n = one_name(name);
    if (!n) return n.error();
    conditions.push_back({(macros_.count(*n) != 0) == (name == "ifdef"), false, at});
    return Ok{};
  }
  if (name == "else" || name == "endif") {
    if (t.size() != 2) return Error::at(t[2].loc, fmt::format("unexpected text after #{}", name));
    if (conditions.empty()) return Error::at(at, fmt::format("#{} without #ifdef or #ifndef", name));
    if (name == "endif") return conditions.pop_back(), Ok{};
    if (conditions.back().seen_else) return Error::at(at, "a second #else for the same #ifdef");
    conditions.back().seen_else = true;
    conditions.back().taking = !conditions.back().taking;
    return Ok{};
  }
  if (!active(conditions)) return Ok{};
  if (name == "define") {
    if (t.size() < 3 || t[2].kind != TokenKind::Ident) return Error::at(at, "#define expects a name");
    Macro m;
    size_t body = 3;
    // Function-like only when ( follows the name with no space: #define f(a) vs #define f (a).
    if (t.size() > 3 && is(t[3], '(') && t[3].loc.line == t[2].loc.line &&
        t[3].loc.column == t[2].loc.column + static_cast<int>(t[2].text.size())) {
      m.function_like = true;
      size_t k = 4;
      while (k < t.size() && !is(t[k], ')')) {
        if (t[k].kind != TokenKind::Ident) return Error::at(t[k].loc, fmt::format("expected a parameter name, got '{}'", t[k].text));
        m.params.emplace_back(t[k].text);
        ++k;
        if (k < t.size() && is(t[k], ',')) ++k;
        else if (k < t.size() && !is(t[k], ')')) return Error::at(t[k].loc, "expected , or ) in the parameter list");
      }
      if (k >= t.size()) return Error::at(t[3].loc, "unterminated parameter list");
      body = k + 1;
    }
    m.body.assign(t.begin() + static_cast<std::ptrdiff_t>(body), t.end());
    macros_[std::string(t[2].text)] = std::move(m);
    return Ok{};
  }
  if (name == "undef") {
    auto n = one_name("undef");
    if (!n) return n.error();
    macros_.erase(*n);
    return Ok{};
  }
  if (name == "include") {
    if (t.size() != 3 || t[2].kind != TokenKind::String) return Error::at(at, "#include expects \"FILE\"");
    namespace fs = std::filesystem;
    std::vector<fs::path> candidates = {fs::path(path).parent_path() / t[2].text};
    for (const std::string& dir : options_.include_dirs) candidates.push_back(fs::path(dir) / t[2].text);
    for (const fs::path& candidate : candidates)
      if (read(candidate.string())) return file(candidate.string(), depth + 1, at, false);
    return Error::at(t[2].loc, fmt::format("cannot find include file \"{}\" (looked beside {} and in {} -I "
                                           "director{})", t[2].text, path, options_.include_dirs.size(),
                                           options_.include_dirs.size() == 1 ? "y" : "ies"));
  }
  if (name == "pragma") {
    add_statement(Statement::Pragma, t.begin() + 2, t.end(), t[0].loc);
    return Ok{};
  }
  return Error::at(t[1].loc, fmt::format("unknown directive #{}", name));
}

Status Preprocessor::expand(const std::vector<Token>& in, std::vector<Token>& out, int depth, const TokenLoc* use) {
  if (depth > kMaxExpansionDepth)
    return Error::at(*use, fmt::format("macro expansion nests deeper than {}", kMaxExpansionDepth));
  for (size_t i = 0; i < in.size(); ++i) {
    const Token& t = in[i];
    auto found = t.kind == TokenKind::Ident && !disabled_.count(t.text) ? macros_.find(t.text) : macros_.end();
    if (found == macros_.end() || (found->second.function_like && (i + 1 >= in.size() || !is(in[i + 1], '(')))) {
      out.push_back(t);
      // A token from a macro's body or argument (it stands where the macro was used) counts; the line's own
      // do not.
      if (use && (out.back().loc = *use, ++produced_ > kMaxMacroTokens))
        return Error::at(*use, "macro expansion produces too many tokens");
      continue;
    }
    const Macro& m = found->second;
    const TokenLoc loc = use ? *use : t.loc;
    std::vector<Token> body;
    if (m.function_like) {
      std::vector<std::vector<Token>> args(1);
      int nesting = 0;
      size_t j = i + 2;
      for (; j < in.size(); ++j) {
        if (is(in[j], '(')) ++nesting;
        if (is(in[j], ')') && nesting-- == 0) break;
        if (is(in[j], ',') && nesting == 0) args.emplace_back();
        else args.back().push_back(in[j]);
      }
      if (j >= in.size()) return Error::at(t.loc, fmt::format("unterminated call of macro {}", t.text));
      if (m.params.empty() && args.size() == 1 && args[0].empty()) args.clear();
      if (args.size() != m.params.size())
        return Error::at(t.loc, fmt::format("macro {} takes {} argument(s), got {}", t.text, m.params.size(), args.size()));
      std::vector<std::vector<Token>> expanded(args.size());
      for (size_t a = 0; a < args.size(); ++a)
        if (auto s = expand(args[a], expanded[a], depth + 1, &loc); !s) return s;
      for (const Token& b : m.body) {
        auto p = b.kind == TokenKind::Ident ? std::find(m.params.begin(), m.params.end(), b.text) : m.params.end();
        if (p == m.params.end()) body.push_back(b);
        else body.insert(body.end(), expanded[p - m.params.begin()].begin(), expanded[p - m.params.begin()].end());
      }
      i = j;
    } else {
      body = m.body;
      // cpp rescans a replacement together with the text after it: an object-like macro that ends by naming
      // a function-like one takes its arguments from there (#define g f; g(2) is f(2)).
      auto callee = !body.empty() && body.back().kind == TokenKind::Ident ? macros_.find(body.back().text) : macros_.end();
      if (callee != macros_.end() && callee->second.function_like && i + 1 < in.size() && is(in[i + 1], '(')) {
        size_t j = i + 1;
        for (int nesting = 0; j < in.size(); ++j)
          if (is(in[j], '(')) ++nesting;
          else if (is(in[j], ')') && --nesting == 0) break;
        if (j < in.size()) body.insert(body.end(), in.begin() + static_cast<std::ptrdiff_t>(i) + 1, in.begin() + static_cast<std::ptrdiff_t>(j) + 1), i = j;
      }
    }
    const std::string name(t.text);
    disabled_.insert(name);
    Status s = expand(body, out, depth + 1, &loc);
    disabled_.erase(name);
    if (!s) return s;
  }
  return Ok{};
}

// One logical line's tokens to the end of the file's vector: physical lines joined where one ends in a
// backslash. Its first error comes back once the whole logical line is read (a branch not taken ignores it).
Status Preprocessor::logical_line(Lines& lines, const FileName& name, size_t mark) {
  Status first = Ok{};
  size_t bytes = 0;
  for (;;) {
    bool more = false;
    std::string_view line = lines.next(more);
    // Past the limit the rest of the line is read, not lexed (an #ifdef not taken ignores the error).
    if ((bytes += line.size()) > kMaxLineBytes && first)
      first = Error::at(TokenLoc{&name, lines.number(), 1}, fmt::format("a line longer than {} MiB (with its continuations): refused",
                                                               kMaxLineBytes >> 20));
    // A line continues when its code (what stands before its // comment) ends in a backslash.
    bool continued = false;
    if (more && std::memchr(line.data(), '\\', line.size())) {
      std::string_view code = line.substr(0, code_end(line));
      while (!code.empty() && (code.back() == ' ' || code.back() == '\t' || code.back() == '\r')) code.remove_suffix(1);
      if ((continued = !code.empty() && code.back() == '\\')) line = code.substr(0, code.size() - 1);
    }
    if (bytes <= kMaxLineBytes) {
      LineLexer lexer(line, name, lines.number(), store_->text);
      if (auto s = lexer.run(tokens_); !s && first) first = std::move(s);
      separated_ |= lexer.separated();
    }
    if (!continued) return first;
    // In a #define, as in Go's lexer, the line break stays: it ends a statement of the body.
    if (tokens_.size() > mark && is(tokens_[mark], '#'))
      tokens_.push_back(Token{TokenKind::Punct, ";", 0, false, 0, {&name, lines.number(), 1}});
  }
}

// Whether the tokens from `mark` on name a macro (most lines do not: they are not copied through expand).
bool Preprocessor::names_macro(size_t mark) const {
  if (macros_.empty()) return false;
  for (size_t k = mark; k < tokens_.size(); ++k)
    if (tokens_[k].kind == TokenKind::Ident && macros_.count(tokens_[k].text)) return true;
  return false;
}

// `;` separates statements; `name:` at the start of one is a label. The tokens from `mark` on are one line's:
// each statement views a run of them, the `;` and `:` left out.
void Preprocessor::statements(size_t mark) {
  const std::vector<Token>& t = tokens_;
  for (size_t from = mark, end = mark;; ++end) {
    if (end != t.size() && !is(t[end], ';')) continue;
    while (end - from >= 2 && t[from].kind == TokenKind::Ident && is(t[from + 1], ':')) {
      statements_.push_back({Statement::Label, {}, t[from].loc, from, 1});
      from += 2;
    }
    if (from != end) statements_.push_back({Statement::Instruction, {}, t[from].loc, from, end - from});
    if (end == t.size()) break;
    from = end + 1;
  }
}

// The statements of the line just read, to the sink: their views of the tokens are set here, where the
// vector no longer moves.
void Preprocessor::flush() {
  for (Statement& s : statements_) {
    s.tokens = Tokens(tokens_).subspan(s.first, s.count);
    sink_->take(s);
  }
  statements_.clear();
  tokens_.clear();
}

// The tokens go to the end of the line's vector; the statement's view of them is set by flush().
void Preprocessor::add_statement(Statement::Kind kind, std::vector<Token>::const_iterator from,
                                 std::vector<Token>::const_iterator to, const TokenLoc& loc) {
  statements_.push_back({kind, {}, loc, tokens_.size(), static_cast<size_t>(to - from)});
  tokens_.insert(tokens_.end(), from, to);
}

}  // namespace

Status preprocess(const std::string& path, const LexOptions& options, SourceStore& store, StatementSink& sink) {
  return Preprocessor(options).run(path, store, sink);
}

Expected<Preprocessed> preprocess(const std::string& path, const LexOptions& options) {
  struct Collect final : StatementSink {
    Preprocessed& out;
    explicit Collect(Preprocessed& p) : out(p) {}
    void take(const Statement& s) override {
      out.statements.push_back(s);
      out.statements.back().first = out.tokens.size();
      out.tokens.insert(out.tokens.end(), s.tokens.begin(), s.tokens.end());
    }
  };
  Preprocessed out;
  Collect collect(out);
  if (auto s = preprocess(path, options, out, collect); !s) return s.error();
  for (Statement& s : out.statements) s.tokens = Tokens(out.tokens).subspan(s.first, s.count);
  return out;
}

std::string spell(Tokens tokens, size_t from, size_t to) {
  std::string out;
  to = std::min(to, tokens.size());
  for (size_t i = from; i < to; ++i) {
    const Token& t = tokens[i];
    const Token* prev = i > from ? &tokens[i - 1] : nullptr;
    std::string text = t.kind == TokenKind::String ? fmt::format("\"{}\"", t.text) : std::string(t.text);
    bool tight = !prev;
    if (prev && prev->loc.same_file(t.loc) && prev->loc.line == t.loc.line && prev->loc.column != t.loc.column) {
      // As written: a space only where the source had one.
      tight = t.loc.column == prev->loc.column + static_cast<int>(prev->text.size()) && prev->kind != TokenKind::String;
    } else if (prev) {
      // Macro output shares one location: put spaces where Go's style has them.
      const bool paren = is(t, '(') && !(i - 1 == 0 && prev->kind == TokenKind::Ident) && !is(*prev, ',');
      tight = is(t, ',') || is(t, ')') || paren || is(*prev, '(') || is(*prev, '$') || is(*prev, '~') || is(t, '*') ||
              is(*prev, '*') || is(t, '+') || is(*prev, '+') || is(t, '-') || is(*prev, '-') || is(t, ':');
    }
    if (!tight) out += ' ';
    out += text;
  }
  return out;
}

}  // namespace w64stub::plan9
