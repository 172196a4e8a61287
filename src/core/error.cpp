#include "w64stub/core/error.hpp"

#include <fmt/format.h>

namespace w64stub {

std::string SourceLoc::str() const {
  if (line <= 0) return file.str();
  if (column <= 0) return fmt::format("{}:{}", file.view(), line);
  return fmt::format("{}:{}:{}", file.view(), line, column);
}

Error Error::at(const SourceLoc& loc, std::string what) {
  return Error{fmt::format("{}: {}", loc.str(), what), loc};
}

std::string_view Error::what() const {
  const std::string prefix = loc.str() + ": ";
  return !loc.file.empty() && message.starts_with(prefix) ? std::string_view(message).substr(prefix.size()) : message;
}

}  // namespace w64stub
