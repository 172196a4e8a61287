#include "w64stub/core/source_lines.hpp"

#include <algorithm>
#include <cstring>

namespace w64stub {

SourceLines SourceLines::split(std::string text) {
  SourceLines out;
  if (text.empty()) return out;
  auto t = std::make_shared<Text>();
  t->text = std::move(text);
  // memchr finds the line ends (a byte-by-byte count cost more than the rest of the split).
  const char* const begin = t->text.data();
  const char* const end = begin + t->text.size();
  size_t count = 1;
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))); ++p) ++count;
  t->lines.reserve(count);
  for (const char* line = begin; line < end;) {
    const auto* newline = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    const char* const stop = newline ? newline : end;
    t->lines.emplace_back(line, static_cast<size_t>(stop - line));
    line = stop + 1;
  }
  out.text_ = std::move(t);
  return out;
}

SourceLines::SourceLines(const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::string text;
  for (const std::string& l : lines) text += l, text += '\n';
  text.pop_back();
  // split() would read an empty last line as none: keep the count as given.
  auto t = std::make_shared<Text>();
  t->text = std::move(text);
  std::string_view rest = t->text;
  for (const std::string& l : lines) {
    t->lines.push_back(rest.substr(0, l.size()));
    rest.remove_prefix(std::min(rest.size(), l.size() + 1));
  }
  text_ = std::move(t);
}

}  // namespace w64stub
