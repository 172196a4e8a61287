#include "w64stub/core/source_lines.hpp"

#include <algorithm>

namespace w64stub {

SourceLines SourceLines::split(std::string text) {
  SourceLines out;
  if (text.empty()) return out;
  auto t = std::make_shared<Text>();
  t->text = std::move(text);
  const std::string_view all = t->text;
  t->lines.reserve(static_cast<size_t>(std::count(all.begin(), all.end(), '\n')) + 1);
  for (size_t start = 0; start < all.size();) {
    const size_t end = std::min(all.find('\n', start), all.size());
    t->lines.push_back(all.substr(start, end - start));
    start = end + 1;
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
