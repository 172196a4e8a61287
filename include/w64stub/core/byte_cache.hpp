// ByteCache: a small per-thread memo of a pure function of a short byte string (at most 15 bytes: one x86
// instruction), four ways to a set so that a stub's few dozen instructions rarely push each other out; a full
// set gives up its entries in turn. For decoders: a JIT's stubs repeat their instructions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace w64stub {

template <typename Value, size_t kSets = 128>
class ByteCache {
 public:
  static constexpr size_t kMaxKey = 15, kWays = 4;

  // The value cached for `key`, or nullptr. Valid until the next put() into the cache.
  const Value* find(std::span<const uint8_t> key) const {
    if (key.empty() || key.size() > kMaxKey) return nullptr;
    const Packed k = pack(key);
    for (const Entry& e : sets_[set_of(k)].ways)
      if (e.key.low == k.low && e.key.high == k.high) return &e.value;
    return nullptr;
  }
  // Keeps `value` for `key` (a key longer than kMaxKey is not kept).
  void put(std::span<const uint8_t> key, const Value& value) {
    if (key.empty() || key.size() > kMaxKey) return;
    const Packed k = pack(key);
    Set& set = sets_[set_of(k)];
    Entry& e = set.ways[set.next];
    set.next = static_cast<uint8_t>((set.next + 1) % kWays);
    e.key = k;
    e.value = value;
  }

 private:
  // A key as two words: its bytes zero-padded, its length in the last byte (so {1} and {1, 0} differ).
  // Compared and hashed a word at a time, not a byte at a time.
  struct Packed {
    uint64_t low = 0, high = 0;  // all zero: empty (no key has length 0)
  };
  struct Entry {
    Packed key;
    Value value{};
  };
  struct Set {
    Entry ways[kWays];
    uint8_t next = 0;  // the way the next put replaces
  };

  static Packed pack(std::span<const uint8_t> key) {
    uint8_t bytes[16] = {};
    std::memcpy(bytes, key.data(), key.size());
    bytes[15] = static_cast<uint8_t>(key.size());
    Packed p;
    std::memcpy(&p.low, bytes, 8);
    std::memcpy(&p.high, bytes + 8, 8);
    return p;
  }
  static size_t set_of(const Packed& k) {
    const uint64_t h = (k.low * 0x9e3779b97f4a7c15ull) ^ (k.high * 0xc2b2ae3d27d4eb4full);
    return static_cast<size_t>(h >> 40) % kSets;
  }

  Set sets_[kSets];
};

// The calling thread's cache of this type, made on first use.
template <typename Value>
ByteCache<Value>& thread_byte_cache() {
  thread_local std::unique_ptr<ByteCache<Value>> cache;
  if (!cache) cache = std::make_unique<ByteCache<Value>>();
  return *cache;
}

}  // namespace w64stub
