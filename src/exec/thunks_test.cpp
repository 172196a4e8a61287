#include "w64stub/exec/thunks.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <csignal>

#include "../testing/test_support.hpp"
#include "w64stub/core/frame.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/win/unwind.hpp"

using namespace w64stub;

namespace {

using Callback = __attribute__((ms_abi)) uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t);

// What each thunk's handler gives back: its context and every argument, in its own place.
__attribute__((ms_abi)) uint64_t mix(void* context, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4) {
  return reinterpret_cast<uint64_t>(context) * 100000 + a1 * 1000 + a2 * 100 + a3 * 10 + a4;
}

__attribute__((ms_abi)) uint64_t other(void* context, uint64_t, uint64_t, uint64_t, uint64_t) {
  return ~reinterpret_cast<uint64_t>(context);
}

}  // namespace

TEST_CASE("a million thunks, 16 bytes each, each reaching its own handler and context with every argument") {
  constexpr size_t kThunks = 1'000'000;
  auto factory = ThunkFactory::create(kThunks);
  REQUIRE_MESSAGE(factory.ok(), factory.error().message);
  std::vector<uint64_t> thunks;
  thunks.reserve(kThunks);
  for (size_t k = 0; k < kThunks; ++k) {
    auto thunk = factory->make(k % 7 == 3 ? other : mix, reinterpret_cast<void*>(k));
    if (!thunk) FAIL(thunk.error().message);
    thunks.push_back(*thunk);
  }
  REQUIRE(factory->commit().ok());
  CHECK(thunks.back() - thunks.front() == (kThunks - 1) * ThunkFactory::kThunkBytes);
  CHECK(test::wx_mappings() == 0);
  size_t wrong = 0;
  for (size_t k = 0; k < kThunks; ++k) {
    const uint64_t got = reinterpret_cast<Callback>(thunks[k])(1, 2, 3, 4);
    wrong += got != (k % 7 == 3 ? ~uint64_t{k} : k * 100000 + 1234);
  }
  CHECK(wrong == 0);
  CHECK(factory->make(mix, nullptr).error().message == "thunk factory: all 1000000 thunks are made");
}

TEST_CASE("thunks made in batches, between single ones and commits, each reach their own target, and a batch that does not fit makes none") {
  constexpr size_t kCapacity = 5000;
  auto factory = ThunkFactory::create(kCapacity);
  REQUIRE_MESSAGE(factory.ok(), factory.error().message);
  std::vector<uint64_t> thunks;
  for (size_t batch : {1, 1000, 7, 0, 2500, 1}) {
    std::vector<ThunkTarget> targets;
    for (size_t k = 0; k < batch; ++k) {
      const size_t n = thunks.size() + k;
      targets.push_back({n % 5 == 2 ? other : mix, reinterpret_cast<void*>(n)});
    }
    std::vector<uint64_t> addresses(batch);
    auto made = factory->make(targets, addresses);
    REQUIRE_MESSAGE(made.ok(), made.error().message);
    thunks.insert(thunks.end(), addresses.begin(), addresses.end());
    auto single = factory->make(thunks.size() % 5 == 2 ? other : mix, reinterpret_cast<void*>(thunks.size()));
    REQUIRE(single.ok());
    thunks.push_back(*single);
    REQUIRE(factory->commit().ok());  // the next batch reopens the arena
  }
  CHECK(test::wx_mappings() == 0);
  size_t wrong = 0;
  for (size_t k = 0; k < thunks.size(); ++k) {
    wrong += thunks[k] != thunks[0] + k * ThunkFactory::kThunkBytes;
    const uint64_t got = reinterpret_cast<Callback>(thunks[k])(1, 2, 3, 4);
    wrong += got != (k % 5 == 2 ? ~uint64_t{k} : k * 100000 + 1234);
  }
  CHECK(wrong == 0);

  const size_t left = kCapacity - factory->size();
  std::vector<ThunkTarget> too_many(left + 1, ThunkTarget{mix, nullptr});
  std::vector<uint64_t> addresses(too_many.size());
  CHECK(factory->make(too_many, addresses).error().message ==
        fmt::format("thunk factory: {} more thunks do not fit ({} of {} are live)", left + 1, factory->size(), kCapacity));
  CHECK(factory->size() == kCapacity - left);
  CHECK(factory->make(too_many, std::span<uint64_t>(addresses).first(1)).error().message ==
        fmt::format("thunk factory: {} targets but room for 1 addresses", left + 1));
}

TEST_CASE("the dispatcher is a Win64 function: its call is aligned, its frame balanced, its unwind data derived") {
  auto factory = ThunkFactory::create(1);
  REQUIRE(factory.ok());
  const Image& dispatcher = factory->dispatcher_image();
  const Frame frame = analyze_frame(dispatcher);
  REQUIRE(frame.calls.size() == 1);
  CHECK(frame.calls_aligned());
  CHECK(frame.balanced);
  CHECK(frame.shadow == 32);
  auto unwind = derive_unwind(dispatcher);
  REQUIRE_MESSAGE(unwind.ok(), unwind.error().message);
  CHECK(!dispatcher.unwind.empty());
  // A thunk does not touch the stack: a leaf that needs no unwind data.
  const Frame thunk = analyze_frame(factory->thunk_image());
  CHECK(thunk.total() == 0);
  CHECK(ThunkFactory::create(0).error().message == "thunk factory: 0 thunks (1 to 2^26)");
}

TEST_CASE("thunks under the probe: the thunk and the dispatcher keep the Win64 contract, each argument moves up one") {
  for (uint32_t index : {0u, 1u, 999'999u}) {
    CAPTURE(index);
    auto image = ThunkFactory::probe_image(index);
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    auto report = probe(*image, {.signature = *win64::parse_signature("a:u64,b:u64,c:u64,d:u64")});
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    CHECK(report->conformant());
    REQUIRE(report->run.calls.size() == 1);
    const CallRecord& call = report->run.calls[0];
    CHECK(call.function == "handler");
    CHECK(call.call_residue == 0);
    CHECK(call.args[0] == index);  // the context of entry `index`
    for (int i = 0; i < 4; ++i) CHECK(call.argument(i + 1) == argument_canary(i));
  }
}

TEST_CASE("a released thunk traps when called, its slot is made again, and a factory full of live thunks takes no more") {
  auto factory = ThunkFactory::create(5);
  REQUIRE_MESSAGE(factory.ok(), factory.error().message);
  std::vector<uint64_t> thunks;
  for (size_t k = 0; k < 4; ++k) thunks.push_back(*factory->make(mix, reinterpret_cast<void*>(k)));
  REQUIRE(factory->commit().ok());

  REQUIRE(factory->release(thunks[1]).ok());
  REQUIRE(factory->release(thunks[2]).ok());
  REQUIRE(factory->commit().ok());
  CHECK(factory->size() == 2);
  CHECK(test::signal_in_child([&] { reinterpret_cast<Callback>(thunks[1])(1, 2, 3, 4); }) == SIGTRAP);
  CHECK(test::signal_in_child([&] { reinterpret_cast<Callback>(thunks[0])(1, 2, 3, 4); }) == 0);
  CHECK(reinterpret_cast<Callback>(thunks[3])(1, 2, 3, 4) == 3 * 100000 + 1234);
  CHECK(factory->release(thunks[1]).error().message ==
        fmt::format("thunk factory: {:#x} is not a live thunk of this factory", thunks[1]));
  CHECK(factory->release(thunks[0] + 1).error().message.ends_with("is not a live thunk of this factory"));
  CHECK(factory->release(thunks[3] + ThunkFactory::kThunkBytes).error().message.ends_with("is not a live thunk of this factory"));

  // The released slots come back before a fresh one, the last released first, each reaching its new target.
  auto again = factory->make(other, reinterpret_cast<void*>(20));
  REQUIRE(again.ok());
  CHECK(*again == thunks[2]);
  std::vector<uint64_t> batch(1);
  const ThunkTarget target{mix, reinterpret_cast<void*>(21)};
  REQUIRE(factory->make({&target, 1}, batch).ok());
  CHECK(batch[0] == thunks[1]);
  REQUIRE(factory->release(thunks[0]).ok());  // released and made again within one batch
  CHECK(*factory->make(mix, reinterpret_cast<void*>(0)) == thunks[0]);
  auto fresh = factory->make(mix, reinterpret_cast<void*>(22));
  REQUIRE(fresh.ok());
  CHECK(*fresh == thunks[3] + ThunkFactory::kThunkBytes);
  CHECK(factory->make(mix, nullptr).error().message == "thunk factory: all 5 thunks are made");
  REQUIRE(factory->commit().ok());
  CHECK(reinterpret_cast<Callback>(thunks[2])(1, 2, 3, 4) == ~uint64_t{20});
  CHECK(reinterpret_cast<Callback>(thunks[1])(1, 2, 3, 4) == 21 * 100000 + 1234);
  CHECK(factory->size() == 5);

  // Every slot made once: a batch fits in what is released, and one more thunk than that does not.
  REQUIRE(factory->release(thunks[0]).ok());
  REQUIRE(factory->release(thunks[3]).ok());
  const std::vector<ThunkTarget> two(2, ThunkTarget{mix, reinterpret_cast<void*>(23)}), three(3, two[0]);
  std::vector<uint64_t> made(3);
  CHECK(factory->make(three, made).error().message == "thunk factory: 3 more thunks do not fit (3 of 5 are live)");
  made.resize(2);
  REQUIRE(factory->make(two, made).ok());
  CHECK((made[0] == thunks[3] && made[1] == thunks[0]));
  CHECK(factory->size() == 5);
}

// Callbacks that come and go: 100,000 makes and releases in random order over 1,000 slots, every live thunk
// reaching its own context at the end.
TEST_CASE("thunks made and released at random stay within the factory's slots and reach their contexts") {
  constexpr size_t kCapacity = 1000;
  auto factory = ThunkFactory::create(kCapacity);
  REQUIRE(factory.ok());
  std::vector<std::pair<uint64_t, size_t>> live;  // address, context
  uint64_t lowest = UINT64_MAX, highest = 0;
  uint64_t state = 12345;
  for (size_t step = 0; step < 100000; ++step) {
    state = state * 6364136223846793005 + 1442695040888963407;
    if (live.size() < kCapacity && (live.empty() || (state >> 33) % 100 < 60)) {
      auto thunk = factory->make(mix, reinterpret_cast<void*>(step));
      REQUIRE(thunk.ok());
      live.push_back({*thunk, step});
      lowest = std::min(lowest, *thunk);
      highest = std::max(highest, *thunk);
    } else {
      const size_t victim = (state >> 33) % live.size();
      REQUIRE(factory->release(live[victim].first).ok());
      live[victim] = live.back();
      live.pop_back();
    }
  }
  REQUIRE(factory->commit().ok());
  CHECK(factory->size() == live.size());
  CHECK(highest - lowest < kCapacity * ThunkFactory::kThunkBytes);
  size_t wrong = 0;
  for (const auto& [address, context] : live)
    wrong += reinterpret_cast<Callback>(address)(1, 2, 3, 4) != context * 100000 + 1234;
  CHECK(wrong == 0);
}
