#include "w64stub/core/source_lines.hpp"

#include <algorithm>
#include <cstring>

namespace w64stub {

std::vector<std::string_view> split_lines(std::string_view text) {
  const char* const end = text.data() + text.size();
  std::vector<std::string_view> lines;
  lines.reserve(text.size() / 24 + 8);  // assembly lines are short: rarely a reallocation, and one pass over the text
  for (const char* line = text.data();;) {
    const auto* newline = static_cast<const char*>(std::memchr(line, '\n', static_cast<size_t>(end - line)));
    lines.emplace_back(line, static_cast<size_t>((newline ? newline : end) - line));
    if (!newline) return lines;
    line = newline + 1;
  }
}

SourceLines SourceLines::split(std::string text) {
  SourceLines out;
  if (text.empty()) return out;
  auto t = std::make_shared<Text>();
  t->text = std::move(text);
  t->lines = split_lines(t->text);
  if (t->text.back() == '\n') t->lines.pop_back();  // getline reads no line after a final newline
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
