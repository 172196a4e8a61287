#include "w64stub/exec/arena.hpp"

#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <map>
#include <random>

#include "../testing/test_support.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/template.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

// get(): returns the 8 bytes of its own data symbol `value` (rip model: data after the code, in the text).
Template value_getter() {
  Program p;
  p.symbol = "get";
  p.instrs = {{x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolMem{"value", 0, 8}}}, {x86::Inst::kIdRet, {}}};
  p.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}};
  return *Template::make(*emit(p, {.model = Model::Rip}));
}

// Where a placed getter's `value` lies, from the start of its text.
size_t value_offset(const Template& get) {
  return get.image().find_symbol("value")->address - get.image().text.address;
}

}  // namespace

TEST_CASE("a code arena holds 10,000 placed stubs that run, and no mapping is ever writable and executable") {
  const Template get = value_getter();
  const size_t value_at = value_offset(get);
  for (bool force_protected : {false, true}) {
    CAPTURE(force_protected);
    auto arena = CodeArena::create({.capacity = 1 << 20, .force_protected = force_protected});
    REQUIRE_MESSAGE(arena.ok(), arena.error().message);
    CHECK((arena->mode() == CodeArena::Mode::Protected) == force_protected);
    std::vector<uint64_t> entries;
    for (uint64_t k = 0; k < 10000; ++k) {
      auto slot = arena->allocate(get.text_size());
      REQUIRE_MESSAGE(slot.ok(), slot.error().message);
      REQUIRE(get.place(slot->address, 0, {}, slot->bytes, {}).ok());
      std::memcpy(slot->bytes.data() + value_at, &k, 8);
      entries.push_back(slot->address);
      if (k % 1000 == 999) REQUIRE(arena->commit().ok());  // batches of 1,000
      if (k == 5000) CHECK(test::wx_mappings() == 0);
    }
    CHECK(test::wx_mappings() == 0);
    for (uint64_t k = 0; k < entries.size(); ++k)
      if (reinterpret_cast<uint64_t (*)()>(entries[k])() != k) FAIL("stub ", k, " returned another's value");
    CHECK(arena->used() <= 10000 * ((get.text_size() + 15) & ~size_t{15}));  // nothing kept per stub
  }
}

TEST_CASE("a code arena refuses what does not fit, and below_2g keeps it low") {
  auto arena = CodeArena::create({.capacity = 4096, .below_2g = true});
  REQUIRE(arena.ok());
  auto first = arena->allocate(4000);
  REQUIRE(first.ok());
  CHECK(first->address + 4096 <= (uint64_t{1} << 31));
  auto full = arena->allocate(200);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().message == "code arena: 200 bytes do not fit (4000 of 4096 used)");
  CHECK(arena->allocate(8, 3).error().message == "code arena: alignment 3");
  arena->reset();
  CHECK(arena->allocate(4096).ok());
}

TEST_CASE("a code arena frees a stub: its bytes trap, its space is reused, free neighbours merge") {
  const Template get = value_getter();
  for (bool force_protected : {false, true}) {
    CAPTURE(force_protected);
    auto arena = CodeArena::create({.capacity = 1 << 16, .force_protected = force_protected});
    REQUIRE(arena.ok());
    const size_t size = get.text_size();
    std::vector<CodeArena::Slot> slots;
    for (int k = 0; k < 4; ++k) {
      auto slot = arena->allocate(size);
      REQUIRE(slot.ok());
      REQUIRE(get.place(slot->address, 0, {}, slot->bytes, {}).ok());
      slots.push_back(*slot);
    }
    REQUIRE(arena->commit().ok());
    const size_t top = arena->used();
    const size_t taken = slots[1].address - slots[0].address;  // the size in whole granules
    CHECK(taken == (size + CodeArena::kGranule - 1) / CodeArena::kGranule * CodeArena::kGranule);

    REQUIRE(arena->free(slots[1].address, size).ok());
    REQUIRE(arena->commit().ok());
    CHECK(arena->free_bytes() == taken);
    CHECK(arena->used() == top);
    CHECK(test::signal_in_child([&] { reinterpret_cast<void (*)()>(slots[1].address)(); }) == SIGTRAP);  // int3, not the stub it was
    CHECK(test::signal_in_child([&] { reinterpret_cast<void (*)()>(slots[0].address)(); }) == 0);
    CHECK(test::wx_mappings() == 0);

    auto again = arena->allocate(size);  // the freed block, not the bump pointer
    REQUIRE(again.ok());
    CHECK(again->address == slots[1].address);
    CHECK(arena->free_bytes() == 0);

    // Two neighbours freed in either order are one block: a stub twice the size fits where they were.
    REQUIRE(arena->free(slots[2].address, size).ok());
    REQUIRE(arena->free(slots[1].address, size).ok());
    const size_t merged = 2 * taken;
    CHECK(arena->free_bytes() == merged);
    auto wide = arena->allocate(merged);
    REQUIRE(wide.ok());
    CHECK(wide->address == slots[1].address);
    REQUIRE(arena->free(wide->address, merged).ok());

    // The last block goes back to the bump pointer, and with it the free space just below it.
    REQUIRE(arena->free(slots[3].address, size).ok());
    CHECK(arena->used() == slots[1].address - slots[0].address);
    CHECK(arena->free_bytes() == 0);
    REQUIRE(arena->free(slots[0].address, size).ok());
    CHECK(arena->used() == 0);
  }
}

TEST_CASE("a code arena refuses to free what it did not hand out, or twice") {
  auto arena = CodeArena::create({.capacity = 4096});
  REQUIRE(arena.ok());
  auto a = arena->allocate(64);
  auto b = arena->allocate(64);
  REQUIRE((a.ok() && b.ok()));
  CHECK(arena->free(b->address + 64, 16).error().message.ends_with("was not handed out by this arena"));
  CHECK(arena->free(a->address - 16, 16).error().message.ends_with("was not handed out by this arena"));
  CHECK(arena->free(a->address, 0).error().message.ends_with("was not handed out by this arena"));
  REQUIRE(arena->free(a->address, 64).ok());
  CHECK(arena->free(a->address, 64).error().message ==
        fmt::format("code arena: {:#x} (+64 bytes) is not a block in use (freed already, or not the size it was "
                    "allocated with)", a->address));
  CHECK(arena->free(a->address + 32, 64).error().message.find("is not a block in use") != std::string::npos);
  CHECK(arena->free_bytes() == 64);
  CHECK(arena->used() == 128);
}

// Freeing more or less than a block would hand a live stub's space to the next allocation (or leave part of
// a block never reusable): every such free is refused and changes nothing.
TEST_CASE("a code arena frees exactly the blocks it handed out: not part of one, not two at once") {
  auto arena = CodeArena::create({.capacity = 4096});
  REQUIRE(arena.ok());
  auto a = arena->allocate(40);  // 48 bytes taken
  auto b = arena->allocate(64);
  auto c = arena->allocate(16);
  REQUIRE((a.ok() && b.ok() && c.ok()));
  auto refused = [&](uint64_t address, size_t size) {
    auto s = arena->free(address, size);
    return !s.ok() && s.error().message.find("is not a block in use") != std::string::npos;
  };
  CHECK(refused(a->address, 48 + 64));    // a and b together
  CHECK(refused(a->address, 32));         // a's start, short of its end
  CHECK(refused(b->address + 16, 48));    // b's end, not its start
  CHECK(refused(b->address + 16, 16));    // inside b
  CHECK(refused(a->address, 48 + 64 + 16));  // all three
  CHECK(refused(b->address, 64 + 16));       // b and c: c, one granule, starts at the range's last granule
  CHECK(arena->free_bytes() == 0);
  REQUIRE(arena->free(a->address, 33).ok());  // a size that takes the same granules is the same block
  REQUIRE(arena->free(b->address, 64).ok());  // merged with a's space
  CHECK(refused(a->address, 48));             // inside the free space now
  auto d = arena->allocate(100);              // reuses a's and b's 112 bytes
  REQUIRE(d.ok());
  CHECK(d->address == a->address);
  CHECK(refused(d->address, 48));  // a's old size: not d's
  CHECK(arena->free(d->address, 100).ok());
  CHECK(arena->free(c->address, 16).ok());
  CHECK(arena->used() == 0);
}

// reset() forgets the free blocks with the rest: none of them is merged with or handed out again.
TEST_CASE("a code arena reset with free blocks in it is as a fresh one") {
  auto arena = CodeArena::create({.capacity = 4096});
  REQUIRE(arena.ok());
  std::vector<CodeArena::Slot> before;
  for (int k = 0; k < 4; ++k) before.push_back(*arena->allocate(64));
  REQUIRE(arena->free(before[1].address, 64).ok());
  REQUIRE(arena->free(before[2].address, 64).ok());
  CHECK(arena->free_bytes() == 128);
  arena->reset();
  CHECK((arena->used() == 0 && arena->free_bytes() == 0));
  auto x = arena->allocate(64), y = arena->allocate(64), z = arena->allocate(64);
  REQUIRE((x.ok() && y.ok() && z.ok()));
  CHECK((x->address == before[0].address && y->address == before[1].address && z->address == before[2].address));
  REQUIRE(arena->free(x->address, 64).ok());
  CHECK(arena->free_bytes() == 64);  // x alone: not merged with y's old free block
  auto wide = arena->allocate(128);  // past z, from the bump pointer: nothing free holds it
  REQUIRE(wide.ok());
  CHECK(wide->address == z->address + 64);
  CHECK(arena->allocate(64)->address == x->address);
}

// Random stubs of random sizes and alignments allocated and freed 20,000 times, checked against a record
// of what is live: no two overlap, each is aligned, each still returns its own value, and once all are
// freed the arena is empty again (every free block merged back).
TEST_CASE("a code arena under random allocation and freeing keeps every live stub intact") {
  const Template get = value_getter();
  const size_t value_at = value_offset(get);
  for (bool force_protected : {false, true}) {
    CAPTURE(force_protected);
    auto arena = CodeArena::create({.capacity = 1 << 20, .force_protected = force_protected});
    REQUIRE(arena.ok());
    std::mt19937_64 random(7);
    std::map<uint64_t, std::pair<size_t, uint64_t>> live;  // address -> size, value
    size_t live_bytes = 0;
    for (uint64_t step = 0; step < 20000; ++step) {
      if (live.empty() || random() % 100 < 55) {
        const size_t size = get.text_size() + random() % 200;
        const size_t align = size_t{1} << (random() % 7);
        auto slot = arena->allocate(size, align);
        REQUIRE_MESSAGE(slot.ok(), slot.error().message);
        REQUIRE(slot->address % align == 0);
        auto after = live.lower_bound(slot->address);
        REQUIRE((after == live.end() || after->first >= slot->address + size));
        REQUIRE((after == live.begin() || std::prev(after)->first + std::prev(after)->second.first <= slot->address));
        REQUIRE(get.place(slot->address, 0, {}, slot->bytes, {}).ok());
        std::memcpy(slot->bytes.data() + value_at, &step, 8);
        live[slot->address] = {size, step};
        live_bytes += size;
      } else {
        auto victim = std::next(live.begin(), static_cast<long>(random() % live.size()));
        REQUIRE(arena->free(victim->first, victim->second.first).ok());
        live_bytes -= victim->second.first;
        live.erase(victim);
      }
      REQUIRE(arena->used() - arena->free_bytes() >= live_bytes);
    }
    REQUIRE(arena->commit().ok());
    CHECK(test::wx_mappings() == 0);
    for (const auto& [address, stub] : live)
      if (reinterpret_cast<uint64_t (*)()>(address)() != stub.second) FAIL("the stub at ", address, " lost its value");
    for (const auto& [address, stub] : live) REQUIRE(arena->free(address, stub.first).ok());
    CHECK(arena->used() == 0);
    CHECK(arena->free_bytes() == 0);
  }
}

// go2012: 1,000 stubs in a low arena read one copy of their data, placed once; a change to it is seen by all.
TEST_CASE("stubs of one template share one copy of data their code only reads") {
  Program p;
  p.symbol = "get";
  p.instrs = {{x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolMem{"value", 0, 8}}}, {x86::Inst::kIdRet, {}}};
  p.data = {DataSymbol{"value", std::vector<uint8_t>(8, 0), 8}};
  auto get = Template::make(*emit(p, {.model = Model::Go2012}));
  REQUIRE(get.ok());
  REQUIRE(get->data_use() == Template::DataUse::Read);
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  REQUIRE(page != MAP_FAILED);
  const auto data = reinterpret_cast<uint64_t>(page);
  auto arena = CodeArena::create({.capacity = 1 << 20, .below_2g = true});
  REQUIRE(arena.ok());
  std::vector<uint64_t> stubs;
  for (int k = 0; k < 1000; ++k) {
    auto slot = arena->allocate(get->text_size());
    REQUIRE(slot.ok());
    auto placed = k == 0 ? get->place(slot->address, data, {}, slot->bytes, {static_cast<uint8_t*>(page), 4096})
                         : get->place_sharing_data(slot->address, data, {}, slot->bytes);
    REQUIRE_MESSAGE(placed.ok(), placed.error().message);
    stubs.push_back(slot->address);
  }
  REQUIRE(arena->commit().ok());
  for (uint64_t value : {uint64_t{42}, uint64_t{7}}) {
    std::memcpy(page, &value, 8);
    size_t wrong = 0;
    for (uint64_t stub : stubs) wrong += reinterpret_cast<uint64_t (*)()>(stub)() != value;
    CHECK(wrong == 0);
  }
  munmap(page, 4096);
}
