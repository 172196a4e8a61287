// Errors are values: every stage returns Expected<T>, whose error names the place (stub or file:line:col)
// and what is wrong. The library never prints; callers decide.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace w64stub {

// A file name every location in the file shares: a copy copies a pointer, not the name (a lexer gives one to
// every token).
class FileName {
 public:
  FileName() = default;
  FileName(std::string_view name) : name_(name.empty() ? nullptr : std::make_shared<const std::string>(name)) {}
  FileName(const std::string& name) : FileName(std::string_view(name)) {}
  FileName(const char* name) : FileName(std::string_view(name)) {}

  std::string_view view() const { return name_ ? std::string_view(*name_) : std::string_view(); }
  std::string str() const { return std::string(view()); }
  bool empty() const { return !name_; }
  friend bool operator==(const FileName& a, const FileName& b) { return a.name_ == b.name_ || a.view() == b.view(); }
  friend bool operator==(const FileName& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const FileName& a, const std::string& b) { return a.view() == b; }

 private:
  std::shared_ptr<const std::string> name_;
};

// Where a piece of source came from: a file (or a catalog stub's name) and a 1-based line and column.
struct SourceLoc {
  FileName file;
  int line = 0;
  int column = 0;

  std::string str() const;  // "file:line:col", "file:line" or "file"
};

struct Error {
  std::string message;  // complete, e.g. "badcallback:5:2: go2012 model: address 0x80000000 does not fit"
  SourceLoc loc;        // where, when made by at(): the message then starts with loc.str() and ": "

  static Error at(const SourceLoc& loc, std::string what);
  std::string_view what() const;  // the message without its location
};

// A minimal std::expected (C++23) stand-in: a value or an Error.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(const T& value) : state_(std::in_place_index<0>, value) {}
  Expected(T&& value) : state_(std::in_place_index<0>, std::move(value)) {}  // one move, not two
  Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }  // *make(): the value moved out, not copied
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// For stages that produce nothing but may fail.
struct Ok {};

// Expected<Ok> is one pointer, null when it succeeded: nearly every function of every stage makes, tests and
// drops a Status, and all but the failing one then touch nothing more than a register.
template <>
class [[nodiscard]] Expected<Ok> {
 public:
  Expected(Ok) {}
  Expected(Error error) : error_(std::make_unique<Error>(std::move(error))) {}
  Expected(const Expected& other) : error_(other.error_ ? std::make_unique<Error>(*other.error_) : nullptr) {}
  Expected(Expected&&) noexcept = default;
  Expected& operator=(const Expected& other) { return *this = Expected(other); }
  Expected& operator=(Expected&&) noexcept = default;

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::unique_ptr<Error> error_;
};
using Status = Expected<Ok>;

}  // namespace w64stub
