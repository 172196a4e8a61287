#include "w64stub/core/error.hpp"

#include <doctest/doctest.h>

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
