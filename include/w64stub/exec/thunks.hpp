// ThunkFactory: callback thunks by the million, the modern form of Go's compilecallback (which made one
// thunk per callback and capped them at 2000). Each thunk is 16 bytes of a CodeArena - `mov eax, INDEX;
// jmp dispatcher`, encoded once by asmjit and placed by its template's fields - and enters one shared
// dispatcher, a Win64 function with unwind data, that calls the thunk's handler as
// handler(context, arg1, arg2, arg3, arg4) under the Win64 convention. No cap but the arena's capacity.
//
// Not thread-safe, as its arena: one factory per thread, or the caller's lock around make() and release().
// The thunks it made may be called from any thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/emit/template.hpp"
#include "w64stub/exec/arena.hpp"

namespace w64stub {

using ThunkHandler = __attribute__((ms_abi)) uint64_t (*)(void* context, uint64_t a1, uint64_t a2, uint64_t a3,
                                                          uint64_t a4);

// What a thunk calls: its handler and the context it passes.
struct ThunkTarget {
  ThunkHandler handler;
  void* context;
};

class ThunkFactory {
 public:
  static constexpr size_t kThunkBytes = 16;

  // Room for `capacity` thunks (the arena is sized for them and the dispatcher).
  static Expected<ThunkFactory> create(size_t capacity);

  // A new thunk: a Win64 function of up to four integer arguments that returns handler(context, ...).
  // Inline: the common case is a copy and two fields, and the caller's check of the result folds away.
  Expected<uint64_t> make(ThunkHandler handler, void* context) {
    if (count_ >= fast_until_) [[unlikely]]
      return make_slow(handler, context);
    return place(count_++, handler, context);
  }
  // targets.size() new thunks at once, all or none: thunk k calls targets[k] and its address goes to
  // addresses[k] (of the same size). One check and one reopen for the batch, then a copy and two fields each.
  Status make(std::span<const ThunkTarget> targets, std::span<uint64_t> addresses);
  // Gives a thunk back: its 16 bytes become int3, so that a call through a released callback traps instead
  // of reaching a handler, and make() reuses its slot first (a factory of N thunks holds N live ones, however
  // many come and go). Like make(), it leaves the batch uncommitted. Refused, changing nothing: an address
  // that is not a thunk this factory made and has not released.
  Status release(uint64_t thunk);
  // Thunks made so far are callable once committed (make() leaves a batch uncommitted: commit per batch).
  Status commit() {
    open_ = false;
    fast_until_ = 0;
    return arena_->commit();
  }
  size_t size() const { return count_ - released_.size(); }  // the live thunks

  // What a thunk and the dispatcher are, as Images (for listings and the probe): the thunk's `dispatcher`
  // and `index`, the dispatcher's `table`, are externals.
  const Image& thunk_image() const { return thunk_.image(); }
  const Image& dispatcher_image() const { return dispatcher_; }

  // Thunk `index` and the dispatcher as one Image the probe runs (abs64): the thunk as made, its jump still
  // rel32; the dispatcher's table a data page where entry `index` holds an import slot `handler` (answered by
  // a stand-in of that name, "thunks!handler") and the context `index`.
  static Expected<Image> probe_image(uint32_t index);

  // `count` thunks and the dispatcher as one Image to be linked ahead of time (write_object): thunk K is the
  // function w64stub·thunkK (as make() writes it, its jump rel32), the dispatcher w64stub·thunk_dispatcher,
  // and the table an external w64stub·thunk_table of `count` {handler, context} pairs the program defines.
  static constexpr std::string_view kThunkSymbol = "w64stub\u00b7thunk", kDispatcherSymbol = "w64stub\u00b7thunk_dispatcher",
                                    kTableSymbol = "w64stub\u00b7thunk_table";
  static Expected<Image> object_image(uint32_t count);

 private:
  using Entry = ThunkTarget;  // the dispatcher's table: {handler, context} per thunk
  std::unique_ptr<CodeArena> arena_;
  std::unique_ptr<Entry[]> table_;
  size_t capacity_ = 0, count_ = 0;  // count_: the slots ever used, released ones included
  std::vector<uint32_t> released_;    // slots to reuse, the last released first
  Template thunk_;
  uint8_t thunk_bytes_[kThunkBytes] = {};  // its text, where make() copies it from
  Image dispatcher_;
  uint64_t dispatcher_address_ = 0;
  CodeArena::Slot thunks_;  // room for every thunk, allocated once
  bool open_ = true;        // written since the last commit
  // make() places a fresh slot inline while count_ is below this: the capacity while the batch is open and
  // no slot waits to be reused, else 0 (one compare instead of three).
  size_t fast_until_ = 0;
  void update_fast_until() { fast_until_ = open_ && released_.empty() ? capacity_ : 0; }
  uint32_t index_field_ = 0, jump_field_ = 0, jump_end_ = 0;  // where make() writes, from the thunk's template

  ThunkFactory() = default;
  [[gnu::cold, gnu::noinline]] Expected<uint64_t> make_slow(ThunkHandler handler, void* context);
  Status reopen();
  // The template's bytes and its two fields into slot `index` (the arena is under 2 GiB: the jump always
  // reaches).
  uint64_t place(size_t index, ThunkHandler handler, void* context) {
    const uint64_t address = thunks_.address + index * kThunkBytes;
    uint8_t* at = thunks_.bytes.data() + index * kThunkBytes;
    const auto index32 = static_cast<uint32_t>(index);
    const auto jump = static_cast<int32_t>(dispatcher_address_ - (address + jump_end_));
    std::memcpy(at, thunk_bytes_, kThunkBytes);
    std::memcpy(at + index_field_, &index32, 4);
    std::memcpy(at + jump_field_, &jump, 4);
    table_[index] = {handler, context};
    return address;
  }
};

}  // namespace w64stub
