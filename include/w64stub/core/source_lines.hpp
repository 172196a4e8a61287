// SourceLines: the lines of source text a SourceLoc::line indexes, shared. Every Program and Image made from
// one file holds that file's lines once; copying them copies a pointer.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace w64stub {

class SourceLines {
 public:
  SourceLines() = default;
  SourceLines(std::vector<std::string> lines)
      : lines_(lines.empty() ? nullptr : std::make_shared<const std::vector<std::string>>(std::move(lines))) {}
  SourceLines(std::initializer_list<std::string> lines) : SourceLines(std::vector<std::string>(lines)) {}

  size_t size() const { return lines_ ? lines_->size() : 0; }
  bool empty() const { return size() == 0; }
  const std::string& operator[](size_t k) const { return (*lines_)[k]; }
  std::vector<std::string>::const_iterator begin() const { return lines_ ? lines_->begin() : kNone().begin(); }
  std::vector<std::string>::const_iterator end() const { return lines_ ? lines_->end() : kNone().end(); }
  // The very same lines (not equal text: the same holder).
  bool same(const SourceLines& other) const { return lines_ == other.lines_; }

 private:
  static const std::vector<std::string>& kNone() {
    static const std::vector<std::string> none;
    return none;
  }
  std::shared_ptr<const std::vector<std::string>> lines_;
};

}  // namespace w64stub
