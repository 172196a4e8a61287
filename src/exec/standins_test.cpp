#include "w64stub/exec/standins.hpp"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

using namespace w64stub;

namespace {

// A context over this process's memory, as the harness's child has it, with the streams kept in strings.
struct Console : StandInContext {
  std::string out[3];
  bool read(uint64_t address, uint64_t size, std::string& copy) override {
    copy.resize(size);
    iovec local{copy.data(), size}, remote{reinterpret_cast<void*>(address), size};
    return size == 0 || process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
  }
  bool write(uint64_t address, std::span<const uint8_t> bytes) override {
    iovec local{const_cast<uint8_t*>(bytes.data()), bytes.size()}, remote{reinterpret_cast<void*>(address), bytes.size()};
    return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(bytes.size());
  }
  bool output(int stream, std::string_view bytes) override { return out[stream] += bytes, true; }
  uint64_t call(std::string_view function, std::vector<uint64_t> args) {
    const StandIn* s = find_standin(builtin_standins(), function);
    REQUIRE(s);
    args.resize(static_cast<size_t>(s->signature.count()));
    return s->behaviour(*this, args);
  }
};
uint64_t address(const void* p) { return reinterpret_cast<uint64_t>(p); }

}  // namespace

TEST_CASE("GetStdHandle: three handles, anything else INVALID_HANDLE_VALUE with error 6") {
  Console c;
  const uint64_t in = c.call("GetStdHandle", {static_cast<uint32_t>(-10)});
  const uint64_t out = c.call("GetStdHandle", {static_cast<uint32_t>(-11)});
  const uint64_t err = c.call("GetStdHandle", {static_cast<uint32_t>(-12)});
  CHECK(in != out);
  CHECK(out != err);
  CHECK(c.last_error == 0);
  CHECK(c.call("GetStdHandle", {static_cast<uint32_t>(-13)}) == ~uint64_t{0});
  CHECK(c.call("GetLastError", {}) == kErrorInvalidHandle);
}

TEST_CASE("WriteFile: writes, reports the count, and fails like Windows") {
  Console c;
  const uint64_t err = c.call("GetStdHandle", {static_cast<uint32_t>(-12)});
  const char text[] = "hello\n";
  uint32_t written = 99;
  CHECK(c.call("WriteFile", {err, address(text), 6, address(&written), 0}) == 1);
  CHECK(written == 6);
  CHECK(c.out[2] == "hello\n");

  // The 2012 bug's shape: a count far beyond the buffer's mapping. Nothing is written, *written = 0.
  // The buffer's page is followed by an inaccessible one.
  auto* page = static_cast<char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  REQUIRE(page != MAP_FAILED);
  REQUIRE(mprotect(page + 4096, 4096, PROT_NONE) == 0);
  std::memcpy(page, text, 6);
  const uint64_t too_long = c.call("WriteFile", {err, address(page), 4096 + 1, address(&written), 0});
  munmap(page, 8192);
  CHECK(too_long == 0);
  CHECK(written == 0);
  CHECK(c.last_error == kErrorInvalidUserBuffer);
  CHECK(c.out[2] == "hello\n");

  CHECK(c.call("WriteFile", {0x1234, address(text), 6, 0, 0}) == 0);
  CHECK(c.last_error == kErrorInvalidHandle);
  CHECK(c.call("WriteFile", {err, address(text), 6, 8, 0}) == 0);  // *written unwritable
  CHECK(c.last_error == kErrorNoAccess);
}

TEST_CASE("signatures: names, argument counts") {
  const StandIn* wf = find_standin(builtin_standins(), "WriteFile");
  REQUIRE(wf);
  CHECK(wf->dll == "kernel32.dll");
  CHECK_FALSE(find_standin(builtin_standins(), "ReadFile"));
  CHECK(wf->signature.count() == 5);
  CHECK(find_standin(builtin_standins(), "GetLastError")->signature.count() == 0);
  CHECK(wf->signature.params[2].name == "nNumberOfBytesToWrite");
  CHECK(wf->signature.params[3].type == win64::ValueType::Out32);
}
