#include "w64stub/core/small_vector.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace w64stub;

namespace {

// Counts the objects alive: every one made must be destroyed exactly once.
struct Counted {
  static inline int alive = 0;
  std::string text;
  explicit Counted(std::string t) : text(std::move(t)) { ++alive; }
  Counted(const Counted& o) : text(o.text) { ++alive; }
  Counted(Counted&& o) noexcept : text(std::move(o.text)) { ++alive; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
  ~Counted() { --alive; }
  bool operator==(const Counted& o) const { return text == o.text; }
};

// Long enough that a string moved from is empty and one copied owns heap memory (ASan sees any misuse).
std::string word(int i) { return "an element too long for the small-string buffer #" + std::to_string(i); }

using Small = SmallVector<Counted, 2>;

Small filled(int n) {
  Small v;
  for (int i = 0; i < n; ++i) v.emplace_back(word(i));
  return v;
}

std::vector<std::string> texts(const Small& v) {
  std::vector<std::string> out;
  for (const Counted& c : v) out.push_back(c.text);
  return out;
}

std::vector<std::string> words(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(word(i));
  return out;
}

}  // namespace

TEST_CASE("a small vector holds N in place and more on the heap, in order") {
  for (int n : {0, 1, 2, 3, 4, 9, 100}) {
    CAPTURE(n);
    {
      Small v = filled(n);
      CHECK(v.size() == static_cast<size_t>(n));
      CHECK(v.in_place() == (n <= 2));
      CHECK(texts(v) == words(n));
      CHECK(Counted::alive == n);
    }
    CHECK(Counted::alive == 0);
  }
}

TEST_CASE("a small vector copies and moves, in place and on the heap, and leaves what it moved from empty") {
  for (int n : {0, 1, 2, 3, 9}) {
    CAPTURE(n);
    {
      const Small original = filled(n);
      Small copy(original);
      CHECK(texts(copy) == words(n));
      CHECK(texts(original) == words(n));
      Small moved(std::move(copy));
      CHECK(texts(moved) == words(n));
      CHECK(copy.empty());
      CHECK(copy.in_place());
      copy.emplace_back(word(7));  // what was moved from is usable again
      CHECK(texts(copy) == std::vector<std::string>{word(7)});

      Small assigned = filled(5);
      assigned = original;
      CHECK(texts(assigned) == words(n));
      Small move_assigned = filled(1);
      move_assigned = std::move(assigned);
      CHECK(texts(move_assigned) == words(n));
      CHECK(assigned.empty());
      Small& self = move_assigned;  // through a reference: compilers warn of a plain self-assignment
      move_assigned = self;
      CHECK(texts(move_assigned) == words(n));
      move_assigned = std::move(self);
      CHECK(texts(move_assigned) == words(n));
      CHECK(original == moved);
      CHECK(Counted::alive == 3 * n + 1);  // original, copy, moved, move_assigned
    }
    CHECK(Counted::alive == 0);
  }
}

TEST_CASE("a small vector's emplace_back may copy one of its own elements while it grows") {
  Small v = filled(2);
  for (int i = 0; i < 6; ++i) v.push_back(v[0]);  // each growth moves v[0] away before the copy lands
  CHECK(v.size() == 8);
  for (const Counted& c : v) CHECK(c.text == (&c == &v[1] ? word(1) : word(0)));
}

TEST_CASE("a small vector from a std::vector and a list, reserve, at, pop_back and clear") {
  {
    std::vector<Counted> source;
    for (int i = 0; i < 3; ++i) source.emplace_back(word(i));
    Small v(std::move(source));
    CHECK(texts(v) == words(3));
    Small listed{Counted(word(0)), Counted(word(1))};
    CHECK(listed.in_place());
    CHECK(texts(listed) == words(2));
    listed.reserve(10);
    CHECK(listed.capacity() >= 10);
    CHECK(!listed.in_place());
    CHECK(texts(listed) == words(2));
    CHECK(listed.at(1).text == word(1));
    CHECK_THROWS_AS(listed.at(2), std::out_of_range);
    listed.pop_back();
    CHECK(texts(listed) == words(1));
    listed.clear();
    CHECK(listed.empty());
  }
  CHECK(Counted::alive == 0);
}
