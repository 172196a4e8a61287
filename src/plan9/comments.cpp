#include "comments_p.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace w64stub::plan9 {

namespace {

// Where the quoted constant starting at `open` ends: past its closing quote, or at the end of its line
// (unterminated: the lexer says so).
size_t skip_quoted(const std::string& text, size_t open) {
  const char quote = text[open];
  const size_t n = text.size();
  size_t i = open + 1;
  for (; i < n && text[i] != quote && text[i] != '\n'; ++i)
    if (text[i] == '\\' && i + 1 < n && text[i + 1] != '\n') ++i;
  return i < n && text[i] == quote ? i + 1 : i;
}

}  // namespace

// memchr finds the slashes; only the part of a slash's line before it is read byte by byte, for quotes (a
// constant cannot span lines). Most lines have no slash and are never read here one byte at a time.
Expected<std::string> strip_comments(std::string text, const FileName& file) {
  const size_t n = text.size();
  char* const s = text.data();
  for (size_t done = 0; done < n;) {  // [0, done) is finished
    const auto* slash = static_cast<const char*>(std::memchr(s + done, '/', n - done));
    if (!slash) break;
    const auto at = static_cast<size_t>(slash - s);
    const auto* newline = static_cast<const char*>(memrchr(s + done, '\n', at - done));
    size_t i = newline ? static_cast<size_t>(newline - s) + 1 : done;
    while (i < at) i = s[i] == '"' || s[i] == '\'' ? skip_quoted(text, i) : i + 1;
    if (i > at) {  // the slash is inside a constant
      done = i;
      continue;
    }
    if (at + 1 < n && s[at + 1] == '/') {
      const auto* end = static_cast<const char*>(std::memchr(s + at, '\n', n - at));
      const size_t stop = end ? static_cast<size_t>(end - s) : n;
      std::memset(s + at, ' ', stop - at);
      done = stop;
    } else if (at + 1 < n && s[at + 1] == '*') {
      const size_t end = text.find("*/", at + 2);
      if (end == std::string::npos) {
        const size_t line_start = text.rfind('\n', at) + 1;  // npos + 1 == 0: the first line
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
        return Error::at({file, static_cast<int>(line), static_cast<int>(at - line_start) + 1}, "unterminated /* comment");
      }
      std::replace_if(s + at, s + end + 2, [](char c) { return c != '\n'; }, ' ');
      done = end + 2;
    } else {
      done = at + 1;
    }
  }
  return text;
}

}  // namespace w64stub::plan9
