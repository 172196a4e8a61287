// JSON: a small reader for the reports other processes send (tools/winrun). Integers are kept exactly
// (64-bit addresses do not survive doubles); fractions and exponents are refused, since no report has them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"

namespace w64stub {

class Json {
 public:
  enum class Kind { Null, Bool, Integer, String, Array, Object };

  Kind kind() const { return kind_; }
  bool boolean() const { return kind_ == Kind::Bool && integer_ != 0; }
  uint64_t u64() const { return kind_ == Kind::Integer && !negative_ ? integer_ : 0; }
  // The signed value; 0 when it is not an integer or does not fit.
  int64_t i64() const {
    if (kind_ != Kind::Integer || integer_ > static_cast<uint64_t>(INT64_MAX)) return 0;
    return negative_ ? -static_cast<int64_t>(integer_) : static_cast<int64_t>(integer_);
  }
  const std::string& string() const { return string_; }
  const std::vector<Json>& array() const { return array_; }
  // The member's value, or a null Json when absent (so lookups chain).
  const Json& operator[](std::string_view key) const;
  bool has(std::string_view key) const;

  // Nesting deeper than 64 levels, trailing text and anything malformed are errors ("offset N: ...").
  static Expected<Json> parse(std::string_view text);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::Null;
  bool negative_ = false;
  uint64_t integer_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json, std::less<>> object_;
};

}  // namespace w64stub
