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
    for (const Entry& e : sets_[set_of(key)].ways)
      if (e.length == key.size() && std::memcmp(e.key, key.data(), key.size()) == 0) return &e.value;
    return nullptr;
  }
  // Keeps `value` for `key` (a key longer than kMaxKey is not kept).
  void put(std::span<const uint8_t> key, const Value& value) {
    if (key.empty() || key.size() > kMaxKey) return;
    Set& set = sets_[set_of(key)];
    Entry& e = set.ways[set.next];
    set.next = static_cast<uint8_t>((set.next + 1) % kWays);
    e.length = static_cast<uint8_t>(key.size());
    std::memcpy(e.key, key.data(), key.size());
    e.value = value;
  }

 private:
  struct Entry {
    uint8_t length = 0;  // 0: empty
    uint8_t key[kMaxKey] = {};
    Value value{};
  };
  struct Set {
    Entry ways[kWays];
    uint8_t next = 0;  // the way the next put replaces
  };

  static size_t set_of(std::span<const uint8_t> key) {
    uint64_t h = 0xcbf29ce484222325ull ^ key.size();  // FNV-1a
    for (uint8_t b : key) h = (h ^ b) * 0x100000001b3ull;
    return static_cast<size_t>(h ^ (h >> 32)) % kSets;
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
