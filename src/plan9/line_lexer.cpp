#include "line_lexer_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace w64stub::plan9 {

namespace {

// Byte classes, one table lookup each: the lexer asks them of every byte (and the C library's would depend
// on the locale).
enum : uint8_t { kSpace = 1, kIdentStart = 2, kDigit = 4, kPunct = 8 };
constexpr auto kClasses = [] {
  std::array<uint8_t, 256> c{};
  for (unsigned char b : std::string_view(" \t\r\f\v")) c[b] = kSpace;
  for (int b = 'a'; b <= 'z'; ++b) c[static_cast<size_t>(b)] = c[static_cast<size_t>(b - 'a' + 'A')] = kIdentStart;
  c['_'] = c['.'] = kIdentStart;
  for (size_t b = 0x80; b < 256; ++b) c[b] = kIdentStart;  // UTF-8, e.g. the middle dot of runtime·x
  for (int b = '0'; b <= '9'; ++b) c[static_cast<size_t>(b)] = kDigit;
  for (unsigned char b : std::string_view("(),$+-*/%&|^~:;#!=<>")) c[b] = kPunct;
  return c;
}();
bool digit(unsigned char c) { return kClasses[c] & kDigit; }
bool ident_start(unsigned char c) { return kClasses[c] & kIdentStart; }
bool ident_char(unsigned char c) { return kClasses[c] & (kIdentStart | kDigit); }
bool punctuation(unsigned char c) { return kClasses[c] & kPunct; }
bool space(unsigned char c) { return kClasses[c] & kSpace; }

}  // namespace

// Identifiers and punctuation, nearly every token, are read here; the rest one at a time out of line. A //
// outside a constant ends the line (a file with /* comments has them all taken out before).
Status LineLexer::run(std::vector<Token>& out) {
  const char* const begin = text_.data();
  const char* const end = begin + text_.size();
  for (const char* p = begin;;) {
    while (p < end && space(static_cast<unsigned char>(*p))) ++p;
    if (p == end) return Ok{};
    const auto c = static_cast<unsigned char>(*p);
    if (c == '/' && p + 1 < end && p[1] == '/') return Ok{};  // a comment to the end of the line
    Token& t = out.emplace_back();  // made in place: a token is 64 bytes
    t.loc = {file_, line_, static_cast<int>(p - begin) + 1};
    if (ident_start(c)) {
      const char* q = p + 1;
      while (q < end && ident_char(static_cast<unsigned char>(*q))) ++q;
      t.kind = TokenKind::Ident;
      t.text = {p, static_cast<size_t>(q - p)};
      if (q < end && *q == '<') q = angle(t, q);
      p = q;
    } else if (punctuation(c) && !((c == '<' || c == '>') && p + 1 < end && p[1] == *p)) {
      separated_ |= c == ';' || c == ':';
      t.text = {p++, 1};
    } else {
      pos_ = static_cast<size_t>(p - begin);
      if (auto s = other(c, t); !s) return out.pop_back(), s;
      p = begin + pos_;
    }
  }
}

// After an identifier, at `q`: a file-local symbol's <> (part of the name), or Go's ABI selectors
// (name<ABIInternal>, name<ABI0>), which choose a calling convention for Go's linker: the code and the
// symbol are the same.
const char* LineLexer::angle(Token& t, const char* q) const {
  const std::string_view rest(q, static_cast<size_t>(text_.data() + text_.size() - q));
  if (rest.starts_with("<>")) {
    t.text = {t.text.data(), t.text.size() + 2};
    q += 2;
  }
  for (std::string_view abi : {"<ABIInternal>", "<ABI0>"})
    if (std::string_view(q, static_cast<size_t>(text_.data() + text_.size() - q)).starts_with(abi)) q += abi.size();
  return q;
}

// A token that is neither an identifier nor one punctuation character, at pos_ (c is its first byte).
Status LineLexer::other(unsigned char c, Token& t) {
  if (digit(c)) return number(t);
  if (c == '"') return string(t);
  if (c == '\'') return character(t);
  if (c == '<' || c == '>') {
    t.text = text_.substr(pos_, 2);  // << or >>
    pos_ += 2;
    return Ok{};
  }
  return Error::at(t.loc, std::isprint(c) ? fmt::format("unexpected character '{}'", static_cast<char>(c))
                                          : fmt::format("unexpected byte {:#04x}", c));
}

Status LineLexer::number(Token& t) {
  size_t start = pos_;
  if (auto end = plain_decimal(start)) {  // most numbers: read once, here
    uint64_t value = 0;
    for (size_t k = start; k < end; ++k) value = value * 10 + static_cast<uint64_t>(text_[k] - '0');
    pos_ = end;
    t.kind = TokenKind::Number;
    t.text = text_.substr(start, end - start);
    t.value = value;
    return Ok{};
  }
  int base = 10;
  if (text_.substr(pos_, 2) == "0x" || text_.substr(pos_, 2) == "0X") pos_ += 2, base = 16;
  else if (text_[pos_] == '0' && pos_ + 1 < text_.size() && digit(static_cast<unsigned char>(text_[pos_ + 1])))
    ++pos_, base = 8;
  size_t digits = pos_;
  uint64_t value = 0;
  if (base != 16 && float_at(start)) return floating(t, start);
  while (pos_ < text_.size() && ident_char(static_cast<unsigned char>(text_[pos_]))) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    int d = digit(c) ? c - '0' : ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base)
      return Error::at(t.loc, fmt::format("malformed number '{}'", text_.substr(start, pos_ + 1 - start)));
    if (value > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
      return Error::at(t.loc, "number does not fit in 64 bits");
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    ++pos_;
  }
  if (pos_ == digits && base == 16) return Error::at(t.loc, "malformed number '0x'");
  t.kind = TokenKind::Number;
  t.text = text_.substr(start, pos_ - start);
  t.value = value;
  return Ok{};
}

// Where a plain decimal number starting at `start` ends: up to 19 digits (no overflow), not an octal 0NN,
// and nothing of a name, fraction, exponent or 0x after them. 0 for any other number: number() reads it
// in full.
size_t LineLexer::plain_decimal(size_t start) const {
  if (text_[start] == '0' && start + 1 < text_.size() && digit(static_cast<unsigned char>(text_[start + 1]))) return 0;
  size_t end = start;
  while (end < text_.size() && end - start < 20 && digit(static_cast<unsigned char>(text_[end]))) ++end;
  if (end - start > 19 || (end < text_.size() && ident_char(static_cast<unsigned char>(text_[end])))) return 0;
  return end;
}

// Digits, then a fraction or an exponent: a floating constant, as Go's 0.5, 2.0, 1e-3.
bool LineLexer::float_at(size_t start) const {
  size_t i = start;
  while (i < text_.size() && digit(static_cast<unsigned char>(text_[i]))) ++i;
  return i < text_.size() && (text_[i] == '.' || text_[i] == 'e' || text_[i] == 'E');
}

Status LineLexer::floating(Token& t, size_t start) {
  const std::string rest(text_.substr(start, std::min<size_t>(text_.size() - start, 64)));
  char* end = nullptr;
  const double v = std::strtod(rest.c_str(), &end);
  const size_t length = static_cast<size_t>(end - rest.c_str());
  if (length == 0 || (start + length < text_.size() && ident_char(static_cast<unsigned char>(text_[start + length]))))
    return Error::at(t.loc, fmt::format("malformed number '{}'", rest.substr(0, std::max<size_t>(length, 1))));
  pos_ = start + length;
  t.kind = TokenKind::Number;
  t.text = text_.substr(start, length);
  t.floating = true;
  t.real = v;
  return Ok{};
}

// One character of a string or character constant, escapes decoded.
Status LineLexer::unit(char quote, char& out, const TokenLoc& at) {
  if (pos_ >= text_.size()) return Error::at(at, quote == '"' ? "unterminated string" : "unterminated character constant");
  char c = text_[pos_++];
  if (c != '\\') return out = c, Ok{};
  if (pos_ >= text_.size()) return Error::at(at, "unterminated escape");
  c = text_[pos_++];
  switch (c) {
    case 'n': out = '\n'; return Ok{};
    case 't': out = '\t'; return Ok{};
    case 'r': out = '\r'; return Ok{};
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
      unsigned v = static_cast<unsigned>(c - '0');
      for (int k = 0; k < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7'; ++k)
        v = v * 8 + static_cast<unsigned>(text_[pos_++] - '0');
      if (v > 255) return Error::at(at, "octal escape above \\377");
      out = static_cast<char>(v);
      return Ok{};
    }
    case 'x': {
      unsigned v = 0;
      for (int k = 0; k < 2; ++k, ++pos_) {
        if (pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_])))
          return Error::at(at, "\\x needs two hex digits");
        v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(text_[pos_])) ? text_[pos_] - '0'
                                                                                                : (text_[pos_] | 0x20) - 'a' + 10);
      }
      out = static_cast<char>(v);
      return Ok{};
    }
    case '\\': case '\'': case '"': out = c; return Ok{};
  }
  return Error::at(at, fmt::format("unknown escape \\{}", c));
}

Status LineLexer::string(Token& t) {
  ++pos_;
  t.kind = TokenKind::String;
  // Most strings hold no escape: their bytes are the text's own, viewed where they stand (no copy).
  for (size_t i = pos_; i < text_.size() && text_[i] != '\\'; ++i)
    if (text_[i] == '"') {
      t.text = text_.substr(pos_, i - pos_);
      pos_ = i + 1;
      return Ok{};
    }
  std::string bytes;
  while (true) {
    // The bytes up to a quote or an escape as they are, then one unit at a time.
    const size_t plain = text_.find_first_of("\"\\", pos_);
    bytes.append(text_.substr(pos_, plain == std::string_view::npos ? std::string_view::npos : plain - pos_));
    pos_ = plain == std::string_view::npos ? text_.size() : plain;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      t.text = storage_.emplace_front(std::move(bytes));
      return Ok{};
    }
    char c = 0;
    if (auto s = unit('"', c, t.loc); !s) return s;
    bytes += c;
  }
}

Status LineLexer::character(Token& t) {
  ++pos_;
  char c = 0;
  if (pos_ < text_.size() && text_[pos_] == '\'') return Error::at(t.loc, "empty character constant");
  if (auto s = unit('\'', c, t.loc); !s) return s;
  if (pos_ >= text_.size() || text_[pos_] != '\'') return Error::at(t.loc, "unterminated character constant");
  ++pos_;
  t.kind = TokenKind::Number;
  t.value = static_cast<unsigned char>(c);
  t.text = storage_.emplace_front(fmt::format("{}", t.value));  // spelled as its value
  return Ok{};
}

}  // namespace w64stub::plan9
