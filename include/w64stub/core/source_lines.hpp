// SourceLines: the lines of source text a SourceLoc::line indexes, shared. Every Program and Image made from
// one file holds that file's text once, as one string and a view per line; copying them copies a pointer.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace w64stub {

// The lines of `text`, views into it, line ends found by memchr; a text ending in a newline has an empty
// last line (the preprocessor counts it; SourceLines::split, reading as getline does, drops it).
std::vector<std::string_view> split_lines(std::string_view text);

class SourceLines {
 public:
  SourceLines() = default;
  SourceLines(const std::vector<std::string>& lines);  // joined into one text
  SourceLines(std::initializer_list<std::string> lines) : SourceLines(std::vector<std::string>(lines)) {}
  // A file's text, in lines as getline reads them: no empty line after a final newline.
  static SourceLines split(std::string text);

  size_t size() const { return text_ ? text_->lines.size() : 0; }
  bool empty() const { return size() == 0; }
  std::string_view operator[](size_t k) const { return text_->lines[k]; }
  // The whole text the lines view (with its final newline, if it has one).
  std::string_view text() const { return text_ ? std::string_view(text_->text) : std::string_view(); }
  // The very same lines (not equal text: the same holder).
  bool same(const SourceLines& other) const { return text_ == other.text_; }

 private:
  struct Text {
    std::string text;
    std::vector<std::string_view> lines;  // into text
  };
  std::shared_ptr<const Text> text_;
};

}  // namespace w64stub
