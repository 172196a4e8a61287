#include "comments_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace w64stub::plan9 {

namespace {

// Where the quoted constant starting at `open` ends: past its closing quote, or at the end of its line
// (unterminated: the lexer says so).
size_t skip_quoted(std::string_view text, size_t open) {
  const char quote = text[open];
  const size_t n = text.size();
  size_t i = open + 1;
  for (; i < n && text[i] != quote && text[i] != '\n'; ++i)
    if (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n') ++i;
  return i < n && text[i] == quote ? i + 1 : i;
}

// The error for a /* at `at` that never closes. The lines before it are s[0, kept) and s[done, at): what was
// left out of them (// comments) held no newline, and none of the /*'s own line before it.
Error unterminated(const std::string& text, size_t kept, size_t done, size_t at, const FileName& file) {
  const char* const s = text.data();
  const auto line = 1 + std::count(s, s + kept, '\n') + std::count(s + done, s + at, '\n');
  const auto* newline = static_cast<const char*>(memrchr(s + done, '\n', at - done));
  size_t column = at - (newline ? static_cast<size_t>(newline - s) + 1 : done) + 1;
  if (!newline) {
    const auto* before = static_cast<const char*>(memrchr(s, '\n', kept));
    column += kept - (before ? static_cast<size_t>(before - s) + 1 : 0);
  }
  return Error::at({file, static_cast<int>(line), static_cast<int>(column)}, "unterminated /* comment");
}

}  // namespace

// memchr finds the slashes; only the part of a slash's line before it is read byte by byte, for quotes (a
// constant cannot span lines). The text is compacted in place as it is read: what is kept moves down to
// `kept`, a // comment is left out.
Expected<std::string> strip_comments(std::string text, const FileName& file) {
  const size_t n = text.size();
  char* const s = text.data();
  size_t kept = 0;  // s[0, kept) is the result so far; it never passes `done`
  auto keep = [&](size_t from, size_t to) {
    if (kept != from) std::memmove(s + kept, s + from, to - from);
    kept += to - from;
  };
  for (size_t done = 0; done < n;) {  // s[done, n) is still to read
    const auto* slash = static_cast<const char*>(std::memchr(s + done, '/', n - done));
    if (!slash) {
      keep(done, n);
      break;
    }
    const auto at = static_cast<size_t>(slash - s);
    const auto* newline = static_cast<const char*>(memrchr(s + done, '\n', at - done));
    size_t i = newline ? static_cast<size_t>(newline - s) + 1 : done;
    while (i < at) i = s[i] == '"' || s[i] == '\'' ? skip_quoted(text, i) : i + 1;
    if (i > at) {  // the slash is inside a constant
      keep(done, i);
      done = i;
    } else if (at + 1 < n && s[at + 1] == '/') {
      const auto* end = static_cast<const char*>(std::memchr(s + at, '\n', n - at));
      keep(done, at);
      done = end ? static_cast<size_t>(end - s) : n;
    } else if (at + 1 < n && s[at + 1] == '*') {
      const size_t end = text.find("*/", at + 2);
      if (end == std::string::npos) return unterminated(text, kept, done, at, file);
      std::replace_if(s + at, s + end + 2, [](char c) { return c != '\n'; }, ' ');
      keep(done, end + 2);
      done = end + 2;
    } else {
      keep(done, at + 1);
      done = at + 1;
    }
  }
  text.resize(kept);
  return text;
}

size_t code_end(std::string_view line) {
  for (size_t i = 0; i + 1 < line.size();) {
    if (line[i] == '"' || line[i] == '\'') i = skip_quoted(line, i);
    else if (line[i] == '/' && line[i + 1] == '/') return i;
    else ++i;
  }
  return line.size();
}

}  // namespace w64stub::plan9
