#include "w64stub/core/error.hpp"

#include <doctest/doctest.h>

#include <memory>

using namespace w64stub;

TEST_CASE("locations print as much as they know") {
  CHECK(SourceLoc{"a.s", 3, 7}.str() == "a.s:3:7");
  CHECK(SourceLoc{"a.s", 3, 0}.str() == "a.s:3");
  CHECK(SourceLoc{"badsignal", 0, 0}.str() == "badsignal");
  CHECK(Error::at({"a.s", 1, 2}, "bad").message == "a.s:1:2: bad");
}

TEST_CASE("Expected holds a value or an error") {
  Expected<int> v = 4;
  CHECK(v.ok());
  CHECK(*v == 4);
  Expected<int> e = Error{"nope"};
  CHECK_FALSE(e);
  CHECK(e.error().message == "nope");
  Status s = Ok{};
  CHECK(s.ok());
}

namespace {

// Counts its copies and moves.
struct Tally {
  int copies = 0, moves = 0;
  Tally() = default;
  Tally(const Tally& other) : copies(other.copies + 1), moves(other.moves) {}
  Tally(Tally&& other) noexcept : copies(other.copies), moves(other.moves + 1) {}
};

w64stub::Expected<Tally> make_tally() { return Tally{}; }

}  // namespace

TEST_CASE("Expected moves its value in and, from a temporary, out: no copies") {
  const Tally made = *make_tally();
  CHECK(made.copies == 0);
  CHECK(made.moves <= 2);  // into the Expected, out of it
  auto owned = *w64stub::Expected<std::unique_ptr<int>>(std::make_unique<int>(7));  // move-only: compiles only if moved
  CHECK(*owned == 7);
}
