#include "w64stub/core/byte_cache.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace w64stub;

TEST_CASE("a byte cache finds what was put under exactly those bytes, and gives up old entries in turn") {
  ByteCache<int, 1> one_set;  // every key in one set of four ways
  const std::vector<uint8_t> a{1}, ab{1, 2}, b{2}, c{3}, d{4}, e{5}, too_long(16, 7);
  one_set.put(a, 10);
  one_set.put(ab, 20);
  REQUIRE(one_set.find(a));
  CHECK(*one_set.find(a) == 10);
  CHECK(*one_set.find(ab) == 20);  // a prefix is another key
  CHECK_FALSE(one_set.find(b));
  CHECK_FALSE(one_set.find({}));
  one_set.put(b, 30);
  one_set.put(c, 40);
  one_set.put(d, 50);  // the fifth: replaces the first put
  CHECK_FALSE(one_set.find(a));
  CHECK(*one_set.find(ab) == 20);
  CHECK(*one_set.find(d) == 50);
  one_set.put(e, 60);  // then the second
  CHECK_FALSE(one_set.find(ab));
  CHECK(*one_set.find(b) == 30);
  one_set.put(too_long, 70);  // longer than an instruction: not kept
  CHECK_FALSE(one_set.find(too_long));
  CHECK(*one_set.find(c) == 40);
}

TEST_CASE("keys that differ only in length or in their last byte are different keys") {
  ByteCache<int, 1> one_set;
  const std::vector<uint8_t> one{1}, one_zero{1, 0}, one_zero_zero{1, 0, 0};
  std::vector<uint8_t> full(15, 9), other = full;
  other[14] = 8;
  one_set.put(one, 1);
  one_set.put(one_zero, 2);
  one_set.put(full, 3);
  CHECK(*one_set.find(one) == 1);
  CHECK(*one_set.find(one_zero) == 2);
  CHECK_FALSE(one_set.find(one_zero_zero));
  CHECK(*one_set.find(full) == 3);
  CHECK_FALSE(one_set.find(other));
  ByteCache<int> many;  // spread over the sets: every key still finds its own value
  for (uint8_t k = 1; k <= 200; ++k) many.put(std::vector<uint8_t>{0x48, 0x89, k}, k);
  int found = 0;
  for (uint8_t k = 1; k <= 200; ++k)
    if (const int* v = many.find(std::vector<uint8_t>{0x48, 0x89, k})) {
      CHECK(*v == k);
      ++found;
    }
  CHECK(found > 150);  // 128 sets of four ways: most of 200 stay
}
