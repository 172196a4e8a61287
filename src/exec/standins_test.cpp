#include "w64stub/exec/standins.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstring>

using namespace w64stub;

namespace {
struct Console {
  std::string out[3];
  StandIns stand_ins{[this](int fd, std::string_view bytes) { return out[fd] += bytes, true; }};
};
uint64_t address(const void* p) { return reinterpret_cast<uint64_t>(p); }
}  // namespace

TEST_CASE("GetStdHandle: three handles, anything else INVALID_HANDLE_VALUE with error 6") {
  Console c;
  const uint64_t in = c.stand_ins.call(StandIn::GetStdHandle, {static_cast<uint32_t>(-10)}).value;
  const uint64_t out = c.stand_ins.call(StandIn::GetStdHandle, {static_cast<uint32_t>(-11)}).value;
  const uint64_t err = c.stand_ins.call(StandIn::GetStdHandle, {static_cast<uint32_t>(-12)}).value;
  CHECK(in != out);
  CHECK(out != err);
  CHECK(c.stand_ins.last_error() == 0);
  CHECK(c.stand_ins.call(StandIn::GetStdHandle, {static_cast<uint32_t>(-13)}).value == ~uint64_t{0});
  CHECK(c.stand_ins.call(StandIn::GetLastError, {}).value == kErrorInvalidHandle);
}

TEST_CASE("WriteFile: writes, reports the count, and fails like Windows") {
  Console c;
  const uint64_t err = c.stand_ins.call(StandIn::GetStdHandle, {static_cast<uint32_t>(-12)}).value;
  const char text[] = "hello\n";
  uint32_t written = 99;
  auto ok = c.stand_ins.call(StandIn::WriteFile, {err, address(text), 6, address(&written), 0});
  CHECK(ok.value == 1);
  CHECK(ok.fd == 2);
  CHECK(ok.written == "hello\n");
  CHECK(written == 6);
  CHECK(c.out[2] == "hello\n");

  // The 2012 bug's shape: a count far beyond the buffer's mapping. Nothing is written, *written = 0.
  // The buffer's page is followed by an inaccessible one.
  auto* page = static_cast<char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(page != MAP_FAILED);
  REQUIRE(mprotect(page + 4096, 4096, PROT_NONE) == 0);
  std::memcpy(page, text, 6);
  auto too_long = c.stand_ins.call(StandIn::WriteFile, {err, address(page), 4096 + 1, address(&written), 0});
  munmap(page, 8192);
  CHECK(too_long.value == 0);
  CHECK(written == 0);
  CHECK(c.stand_ins.last_error() == kErrorInvalidUserBuffer);
  CHECK(c.out[2] == "hello\n");

  CHECK(c.stand_ins.call(StandIn::WriteFile, {0x1234, address(text), 6, 0, 0}).value == 0);
  CHECK(c.stand_ins.last_error() == kErrorInvalidHandle);
  CHECK(c.stand_ins.call(StandIn::WriteFile, {err, address(text), 6, 8, 0}).value == 0);  // *written unwritable
  CHECK(c.stand_ins.last_error() == kErrorNoAccess);
}

TEST_CASE("signatures: names, argument counts") {
  CHECK(find_standin("WriteFile") == StandIn::WriteFile);
  CHECK_FALSE(find_standin("ReadFile").has_value());
  CHECK(argument_count(StandIn::WriteFile) == 5);
  CHECK(argument_count(StandIn::GetLastError) == 0);
  CHECK(argument_name(StandIn::WriteFile, 2) == "nNumberOfBytesToWrite");
  CHECK(argument_name(StandIn::GetStdHandle, 1).empty());
}
