#include "w64stub/exec/json.hpp"

#include <fmt/format.h>

namespace w64stub {

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Expected<Json> run() {
    Json value;
    if (!parse_value(value, 0)) return error();
    skip_space();
    if (pos_ != text_.size()) return fail("trailing text"), error();
    return value;
  }

 private:
  bool fail(std::string what) {
    if (what_.empty()) what_ = fmt::format("offset {}: {}", pos_, what);
    return false;
  }
  Error error() const { return Error{fmt::format("JSON: {}", what_)}; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail(fmt::format("expected {}", word));
    pos_ += word.size();
    return true;
  }

  bool parse_value(Json& v, int depth) {
    if (depth > 64) return fail("nesting deeper than 64");
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return parse_object(v, depth);
    if (c == '[') return parse_array(v, depth);
    if (c == '"') return v.kind_ = Json::Kind::String, parse_string(v.string_);
    if (c == 't') return v.kind_ = Json::Kind::Bool, v.integer_ = 1, literal("true");
    if (c == 'f') return v.kind_ = Json::Kind::Bool, literal("false");
    if (c == 'n') return literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) return parse_integer(v);
    return fail(fmt::format("unexpected character '{}'", c));
  }

  bool parse_integer(Json& v) {
    v.kind_ = Json::Kind::Integer;
    v.negative_ = text_[pos_] == '-';
    if (v.negative_) ++pos_;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (v.integer_ > (UINT64_MAX - digit) / 10) return fail("integer out of range");
      v.integer_ = v.integer_ * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return fail("expected digits");
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      return fail("only integers are expected");
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned code = 0;
          for (int i = 0; i < 4; ++i, ++pos_) {
            if (pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_])))
              return fail("bad \\u escape");
            code = code * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(text_[pos_]))
                                                         ? text_[pos_] - '0'
                                                         : (text_[pos_] | 0x20) - 'a' + 10);
          }
          if (code >= 0x80) return fail("only \\u escapes below 0x80 are expected");  // reports escape controls
          out += static_cast<char>(code);
          break;
        }
        default: return fail(fmt::format("bad escape \\{}", e));
      }
    }
    return fail("unterminated string");
  }

  bool parse_array(Json& v, int depth) {
    v.kind_ = Json::Kind::Array;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
    for (;;) {
      v.array_.emplace_back();
      if (!parse_value(v.array_.back(), depth + 1)) return false;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
      return fail("expected , or ]");
    }
  }

  bool parse_object(Json& v, int depth) {
    v.kind_ = Json::Kind::Object;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
    for (;;) {
      skip_space();
      std::string key;
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a member name");
      if (!parse_string(key)) return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return fail("expected :");
      ++pos_;
      Json member;
      if (!parse_value(member, depth + 1)) return false;
      v.object_.insert_or_assign(std::move(key), std::move(member));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
      return fail("expected , or }");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string what_;
};

const Json& Json::operator[](std::string_view key) const {
  static const Json null;
  auto it = object_.find(key);
  return it == object_.end() ? null : it->second;
}

bool Json::has(std::string_view key) const { return object_.find(key) != object_.end(); }

Expected<Json> Json::parse(std::string_view text) { return JsonParser(text).run(); }

}  // namespace w64stub
