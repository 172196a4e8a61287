#include "w64stub/harness.hpp"

#include <asmjit/x86.h>
#include <fmt/format.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "w64stub/jit.hpp"

namespace w64stub {
namespace x86 = asmjit::x86;

namespace {

enum class Function { GetStdHandle, WriteFile, GetLastError };
constexpr uint64_t kHandleBase = 0x50;  // GetStdHandle(-10/-11/-12) -> 0x50/0x54/0x58 for fds 0/1/2
constexpr uint64_t kInvalidHandle = ~uint64_t{0};

class Harness;

struct ImportThunk {
  Harness* harness;
  Function function;
  std::string name;
};

// Whether [address, address+size) can be read, found without touching it (no fault on bad input).
bool readable(uint64_t address, uint64_t size, std::string* copy) {
  char chunk[65536];
  while (size > 0) {
    size_t n = std::min<uint64_t>(size, sizeof chunk);
    iovec local{chunk, n}, remote{reinterpret_cast<void*>(address), n};
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != static_cast<ssize_t>(n)) return false;
    if (copy) copy->append(chunk, n);
    address += n;
    size -= n;
  }
  return true;
}

bool write_u32(uint64_t address, uint32_t value) {
  iovec local{&value, 4}, remote{reinterpret_cast<void*>(address), 4};
  return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == 4;
}

class Harness {
 public:
  Harness(const Image& image, const RunOptions& options) : image_(image), options_(options) {}

  Expected<RunReport> run();
  uint64_t call(const ImportThunk& thunk, const std::array<uint64_t, 5>& args, uint64_t entry_rsp);

 private:
  uint64_t get_std_handle(uint32_t which);
  uint64_t write_file(const std::array<uint64_t, 5>& args, CallRecord& record);
  Expected<Mapping> build_thunk(ImportThunk* thunk);
  Expected<Mapping> build_entry(uint64_t stub);
  void add_findings();

  const Image& image_;
  const RunOptions& options_;
  RunReport report_;
  uint32_t last_error_ = 0;
  uint64_t text_address_ = 0;
  std::map<std::string, uint64_t> data_addresses_;  // where the instance put each data symbol
};

// Win64 callees are ms_abi: GCC saves RSI, RDI and XMM6-15 here before calling SysV code.
__attribute__((ms_abi)) uint64_t dispatch(uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9, uint64_t arg5,
                                          uint64_t entry_rsp, const ImportThunk* thunk) {
  return thunk->harness->call(*thunk, {rcx, rdx, r8, r9, arg5}, entry_rsp);
}

uint64_t Harness::get_std_handle(uint32_t which) {
  switch (static_cast<int32_t>(which)) {
    case -10: return kHandleBase + 0;
    case -11: return kHandleBase + 4;
    case -12: return kHandleBase + 8;
  }
  last_error_ = kErrorInvalidHandle;
  return kInvalidHandle;
}

// Like Wine's kernel32: an unreadable buffer means nothing is written, FALSE, ERROR_INVALID_USER_BUFFER.
uint64_t Harness::write_file(const std::array<uint64_t, 5>& args, CallRecord& record) {
  const uint64_t handle = args[0], buffer = args[1], written_ptr = args[3];
  const auto count = static_cast<uint32_t>(args[2]);  // DWORD nNumberOfBytesToWrite
  auto fail = [&](uint32_t error) {
    if (written_ptr) write_u32(written_ptr, 0);
    last_error_ = error;
    return uint64_t{0};
  };
  if (handle != kHandleBase + 4 && handle != kHandleBase + 8) return fail(kErrorInvalidHandle);
  std::string bytes;
  if (!readable(buffer, count, &bytes)) return fail(kErrorInvalidUserBuffer);
  if (written_ptr && !write_u32(written_ptr, count)) return fail(kErrorNoAccess);
  const int fd = static_cast<int>((handle - kHandleBase) / 4);
  if (options_.capture) (fd == 1 ? report_.captured_stdout : report_.captured_stderr) += bytes;
  else if (::write(fd, bytes.data(), bytes.size()) < 0) return fail(kErrorNoAccess);
  record.written = std::move(bytes);
  return 1;
}

uint64_t Harness::call(const ImportThunk& thunk, const std::array<uint64_t, 5>& args, uint64_t entry_rsp) {
  CallRecord record;
  record.function = thunk.name;
  record.args = args;
  record.entry_rsp = entry_rsp;
  record.call_residue = static_cast<int>((entry_rsp + 8) % 16);
  uint64_t return_address = *reinterpret_cast<const uint64_t*>(entry_rsp);
  if (return_address > text_address_ && return_address <= text_address_ + image_.code_size)
    if (const InstrInfo* call = image_.instr_ending_at(static_cast<uint32_t>(return_address - text_address_)))
      record.call_offset = call->offset;
  switch (thunk.function) {
    case Function::GetStdHandle: record.result = get_std_handle(static_cast<uint32_t>(args[0])); break;
    case Function::WriteFile: record.result = write_file(args, record); break;
    case Function::GetLastError: record.result = last_error_; break;
  }
  record.last_error = last_error_;
  report_.calls.push_back(std::move(record));
  return report_.calls.back().result;
}

Expected<Mapping> Harness::build_thunk(ImportThunk* thunk) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  a.push(x86::rbp);
  a.mov(x86::rbp, x86::rsp);             // rbp = entry RSP - 8
  a.and_(x86::rsp, -16);
  a.sub(x86::rsp, 64);                   // home area + three stack arguments, aligned
  a.mov(x86::rax, x86::qword_ptr(x86::rbp, 48));  // the caller's 5th argument: entry RSP + 40
  a.mov(x86::qword_ptr(x86::rsp, 32), x86::rax);
  a.lea(x86::rax, x86::qword_ptr(x86::rbp, 8));
  a.mov(x86::qword_ptr(x86::rsp, 40), x86::rax);
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(thunk)));
  a.mov(x86::qword_ptr(x86::rsp, 48), x86::rax);
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(&dispatch)));
  a.call(x86::rax);
  a.mov(x86::rsp, x86::rbp);
  a.pop(x86::rbp);
  a.ret();
  return load_code(code);
}

// SysV-callable: saves what SysV needs kept, sets the entry condition, calls the stub, records RSP.
Expected<Mapping> Harness::build_entry(uint64_t stub) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  const x86::Gp saved[] = {x86::rbp, x86::rbx, x86::r12, x86::r13, x86::r14, x86::r15};
  for (const x86::Gp& r : saved) a.push(r);
  a.mov(x86::rbp, x86::rsp);
  a.and_(x86::rsp, -16);
  // After the and, RSP = 0 (mod 16); CALL pushes 8, so the stub enters at 8 unless we step down first.
  if (int step = (16 + kWin64EntryResidue - options_.entry_residue % 16) % 16) a.sub(x86::rsp, step);
  a.cld();
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(&report_.rsp_before_call)));
  a.mov(x86::qword_ptr(x86::rax), x86::rsp);
  a.mov(x86::rax, asmjit::Imm(stub));
  a.call(x86::rax);
  a.mov(x86::rcx, asmjit::Imm(reinterpret_cast<uint64_t>(&report_.rsp_after_return)));
  a.mov(x86::qword_ptr(x86::rcx), x86::rsp);
  a.mov(x86::rsp, x86::rbp);
  for (auto it = std::rbegin(saved); it != std::rend(saved); ++it) a.pop(*it);
  a.ret();
  return load_code(code);
}

void Harness::add_findings() {
  auto where = [&](const CallRecord& c) {
    const InstrInfo* call = c.call_offset >= 0 ? image_.instr_at(static_cast<uint32_t>(c.call_offset)) : nullptr;
    if (!call) return std::string("a CALL outside the stub");
    std::string text(image_.source_line(*call));
    while (!text.empty() && (text.front() == '\t' || text.front() == ' ')) text.erase(0, 1);
    std::replace(text.begin(), text.end(), '\t', ' ');
    return fmt::format("the CALL at +{:#x} ({}:{} {})", call->offset, call->loc.file, call->loc.line, text);
  };
  for (const CallRecord& c : report_.calls) {
    if (c.call_residue != 0)
      report_.findings.push_back(fmt::format("{} -> {}: RSP = {} (mod 16) at the CALL; Win64 wants 0", where(c),
                                             c.function, c.call_residue));
    if (c.function == "WriteFile" && c.result == 0) {
      // The 2012 bug: a DWORD count that is (the low half of) a data symbol's address.
      std::string what;
      for (const auto& [symbol, address] : data_addresses_)
        if (static_cast<uint32_t>(c.args[2]) == static_cast<uint32_t>(address))
          what = fmt::format(": the count {:#x} is the address of {}, not its value", static_cast<uint32_t>(c.args[2]), symbol);
      report_.findings.push_back(fmt::format("WriteFile returned FALSE, GetLastError {}{}", c.last_error, what));
    }
  }
  if (!report_.rsp_intact())
    report_.findings.push_back(fmt::format("RSP came back {:+d} bytes off", static_cast<int64_t>(report_.rsp_after_return - report_.rsp_before_call)));
}

Expected<RunReport> Harness::run() {
  std::vector<std::unique_ptr<ImportThunk>> thunks;
  std::vector<Mapping> thunk_code;
  std::vector<Binding> bindings;
  for (const Symbol& s : image_.symbols) {
    if (s.kind != SymbolKind::Import) continue;
    Function f;
    if (s.function == "GetStdHandle") f = Function::GetStdHandle;
    else if (s.function == "WriteFile") f = Function::WriteFile;
    else if (s.function == "GetLastError") f = Function::GetLastError;
    else return Error{fmt::format("{}: the native harness has no stand-in for {}!{}", image_.stub, s.dll, s.function)};
    thunks.push_back(std::make_unique<ImportThunk>(ImportThunk{this, f, s.function}));
    auto code = build_thunk(thunks.back().get());
    if (!code) return code.error();
    bindings.push_back(Binding{s.function, code->data()});
    thunk_code.push_back(std::move(*code));
  }
  auto instance = instantiate(image_, bindings, {options_.at_image_addresses});
  if (!instance) return instance.error();
  text_address_ = instance->text_address();
  report_.text_address = instance->text_address();
  report_.data_address = instance->data_address();
  report_.at_image_addresses = instance->at_image_addresses();
  report_.entry_residue = options_.entry_residue;
  for (const Symbol& s : image_.symbols)
    if (s.kind == SymbolKind::Data) data_addresses_[s.name] = instance->address_of(s.name);

  auto entry = build_entry(instance->text_address());
  if (!entry) return entry.error();
  reinterpret_cast<void (*)()>(entry->data())();
  add_findings();
  return report_;
}

}  // namespace

Expected<RunReport> run_native(const Image& image, const RunOptions& options) {
  Harness harness(image, options);
  return harness.run();
}

}  // namespace w64stub
