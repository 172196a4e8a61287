// winrun: loads w64stub image files into a Windows process and calls each stub once, against the real
// Windows API (under Wine here), reporting one line per image, "N {json}", on stdout or to --report FILE.
//
//   winrun [--probe] [--mark] [--unwind-check] [--args A,B,...] [--timeout MS] [--report FILE] FILE.image...
//
// Each image is placed at its own addresses when they are free, otherwise elsewhere (go2012: below 2 GiB,
// which its 32-bit absolute addresses need); it is mapped read-write, copied, relocated, its imports resolved
// with LoadLibrary/GetProcAddress, and its code turned read-execute with VirtualProtect: never writable and
// executable at once. --probe interposes a logging probe on every import: arguments, return value,
// GetLastError and RSP at entry. --mark writes "\x1e" "begin N\n" to stdout and stderr before image N, so
// that one process can run many images and the caller can still tell which bytes each stub wrote; --report
// FILE keeps the reports where no stub's output can reach or imitate them. --timeout MS stops a stub that
// has not returned by then and reports where it was. Every image with unwind data has its function table registered
// (RtlAddFunctionTable); --unwind-check runs each stub one instruction at a time and checks Windows' unwinder at
// every instruction boundary (unwind_check.hpp). Stubs run on a thread with a 16 MiB stack.
#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "unwind_check.hpp"
#include "w64stub/core/imagefile.hpp"

namespace imagefile = w64stub::imagefile;

namespace {

constexpr int kMaxImports = 16;

struct CallLog {
  int import = 0;
  uint64_t args[5] = {};
  uint64_t entry_rsp = 0, return_address = 0, result = 0;
  DWORD last_error = 0;
  std::vector<std::pair<int, int64_t>> out;  // out32 arguments after the call: (index, *argument)
};

std::vector<CallLog> g_calls;

}  // namespace

// A host function for tests, with seven arguments (three on the stack), each weighted by its position so
// that a misplaced one shows: an image imports it as winrun.exe!w64stub_sum7.
extern "C" __declspec(dllexport) int64_t w64stub_sum7(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,
                                                      int64_t f, int64_t g) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g;
}

namespace {
void* g_real[kMaxImports];
std::vector<int> g_out32[kMaxImports];  // which arguments of each import are out32 (from its signature)

using Win64Function = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

// A logging probe for import K: records, calls the real function with the same arguments (four in registers,
// four from the stack, enough for any kernel32 function the stubs use), records what it returned.
// force_align_arg_pointer: the stub may call with RSP misaligned; GCC realigns instead of assuming.
template <int K>
__attribute__((force_align_arg_pointer, noinline)) uint64_t probe(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                                                  uint64_t e, uint64_t f, uint64_t g, uint64_t h) {
  CallLog log;
  log.import = K;
  // Win64: the 5th argument lives at [entry RSP + 40]; its address says where RSP was at entry.
  log.entry_rsp = reinterpret_cast<uint64_t>(&e) - 40;
  log.return_address = winrun::real_return_address(reinterpret_cast<uint64_t>(__builtin_return_address(0)));
  const uint64_t args[5] = {a, b, c, d, e};
  std::copy(args, args + 5, log.args);
  SetLastError(0);
  log.result = reinterpret_cast<Win64Function>(g_real[K])(a, b, c, d, e, f, g, h);
  log.last_error = GetLastError();
  for (int index : g_out32[K])
    if (index < 5 && args[index] != 0) log.out.emplace_back(index, *reinterpret_cast<const DWORD*>(args[index]));
  g_calls.push_back(log);
  SetLastError(log.last_error);
  return log.result;
}

template <int... K>
constexpr std::array<void*, sizeof...(K)> probes(std::integer_sequence<int, K...>) {
  return {reinterpret_cast<void*>(&probe<K>)...};
}
const auto kProbes = probes(std::make_integer_sequence<int, kMaxImports>{});

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

// Straight to the stream, flushed: the stub writes to the same handle unbuffered, so order is kept.
void write_marker(std::FILE* stream, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

struct Placed {
  uint8_t* base = nullptr;  // the allocation
  uint64_t low = 0;         // the image address the allocation's first byte stands for
  size_t size = 0;
  bool at_image_addresses = false;
  uint64_t place(uint64_t image_address) const { return image_address - low + reinterpret_cast<uint64_t>(base); }
};

// One allocation for all sections, keeping their distances: at the image's own addresses if free.
bool allocate(const imagefile::File& file, Placed& placed, std::string& error) {
  uint64_t low = UINT64_MAX, high = 0;
  for (const imagefile::Section& s : file.sections) {
    low = std::min(low, s.address);
    high = std::max(high, s.address + s.bytes.size());
  }
  const uint64_t granularity = 0x10000, page = 0x1000;
  low &= ~(granularity - 1);
  high = (high + page - 1) & ~(page - 1);
  placed.size = high - low + page;  // and a page for the RUNTIME_FUNCTION and UNWIND_INFO
  placed.low = low;
  auto try_at = [&](uint64_t at) {
    placed.base = static_cast<uint8_t*>(VirtualAlloc(reinterpret_cast<void*>(at), placed.size,
                                                     MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
    return placed.base != nullptr;
  };
  if (try_at(low)) return placed.at_image_addresses = true;
  if (file.model == "go2012") {
    // Sign-extended 32-bit addresses: find a free region below 2 GiB.
    for (uint64_t at = 0x10000000; at + placed.size < 0x80000000; at += granularity)
      if (try_at(at)) return true;
    error = "no free region below 2 GiB for the go2012 model";
    return false;
  }
  if (try_at(0)) return true;
  error = "VirtualAlloc failed: " + std::to_string(GetLastError());
  return false;
}

// The function's RUNTIME_FUNCTION and UNWIND_INFO in the allocation's last page, registered with Windows
// so that its unwinder (exceptions, RtlVirtualUnwind, debuggers) finds the function.
bool register_unwind(const imagefile::File& file, const Placed& placed, uint64_t text_address) {
  if (file.unwind.empty() || file.unwind.size() > 0x800) return false;
  uint8_t* page = placed.base + placed.size - 0x1000;
  const auto rva = [&](uint64_t address) { return static_cast<DWORD>(address - reinterpret_cast<uint64_t>(placed.base)); };
  auto* function = reinterpret_cast<RUNTIME_FUNCTION*>(page);
  function->BeginAddress = rva(text_address + file.entry);
  function->EndAddress = rva(text_address + file.code_size);
  function->UnwindData = rva(reinterpret_cast<uint64_t>(page + 16));
  std::memcpy(page + 16, file.unwind.data(), file.unwind.size());
  return RtlAddFunctionTable(function, 1, reinterpret_cast<DWORD64>(placed.base));
}

struct Call {
  uint64_t text = 0, size = 0, entry = 0;
  bool check = false;
  const std::vector<uint64_t>* args = nullptr;  // RCX, RDX, R8, R9, then the stack: up to 8
  uint64_t value = 0;                           // RAX on return
  winrun::UnwindCheck result;
  winrun::GuardState guard{};
  bool guarded = false;  // the stub returned into guard.S
};

// Touches the next `bytes` of stack page by page (alloca's stack probe does), so that a stub's frame of up to
// that size finds them committed: test frames allocate up to 1 MiB without probes of their own.
__attribute__((noinline)) void commit_stack(size_t bytes) {
  volatile auto* low = static_cast<volatile uint8_t*>(__builtin_alloca(bytes));
  low[0] = 0;
}

// A stub's exception ends its own thread, not winrun: recorded, then the thread leaves through leave_stub on a
// stack of its own (the stub's may be gone). First chance for exceptions in the stub's code or at addresses
// nothing is mapped at; any other exception the thread leaves unhandled ends it the same way.
struct StubFault {
  DWORD code = 0;
  uint64_t rip = 0, address = 0;
};
StubFault g_fault;
DWORD g_stub_thread = 0;
uint64_t g_stub_text = 0, g_stub_size = 0;
alignas(16) uint8_t g_leave_stack[1 << 16];

[[noreturn]] void leave_stub() { ExitThread(2); }

LONG contain(EXCEPTION_POINTERS* e) {
  const DWORD code = e->ExceptionRecord->ExceptionCode;
  g_fault = {code, e->ContextRecord->Rip,
             code == EXCEPTION_ACCESS_VIOLATION ? e->ExceptionRecord->ExceptionInformation[1] : 0};
  e->ContextRecord->Rip = reinterpret_cast<DWORD64>(&leave_stub);
  e->ContextRecord->Rsp = reinterpret_cast<DWORD64>(g_leave_stack + sizeof g_leave_stack - 8);
  return EXCEPTION_CONTINUE_EXECUTION;
}

LONG WINAPI on_stub_exception(EXCEPTION_POINTERS* e) {
  const DWORD code = e->ExceptionRecord->ExceptionCode;
  const uint64_t rip = e->ContextRecord->Rip;
  MEMORY_BASIC_INFORMATION where{};
  const bool in_stub = rip - g_stub_text < g_stub_size;
  const bool nowhere = VirtualQuery(reinterpret_cast<void*>(rip), &where, sizeof where) == 0 || where.State != MEM_COMMIT;
  if (GetCurrentThreadId() != g_stub_thread || code == EXCEPTION_SINGLE_STEP || (!in_stub && !nowhere))
    return EXCEPTION_CONTINUE_SEARCH;
  return contain(e);
}

LONG WINAPI on_unhandled(EXCEPTION_POINTERS* e) {
  return GetCurrentThreadId() == g_stub_thread ? contain(e) : EXCEPTION_CONTINUE_SEARCH;
}

// The stub runs on a thread of its own, with a stack deep enough for large test frames.
DWORD WINAPI call_stub(void* argument) {
  auto* call = static_cast<Call*>(argument);
  g_stub_thread = GetCurrentThreadId();
  commit_stack(4u << 20);
  uint64_t a[8] = {};
  std::copy(call->args->begin(), call->args->end(), a);
  for (int k = 0; k < 8; ++k) call->guard.before[k] = 0xC0DE'0000'0000'0000 + 0x100 * (k + 1);  // distinct, not 0
  if (call->check) {
    call->result = winrun::call_checked(call->text, call->size, call->entry, a, &call->value, &call->guard);
  } else {  // a Win64 call: the stub enters at RSP = 8 mod 16
    call->value = winrun_guarded_call(call->entry, a, &call->guard);
  }
  call->guarded = true;
  return 0;
}

struct Options {
  bool use_probes = false, mark = false, unwind_check = false;
  std::vector<uint64_t> args;
  DWORD timeout_ms = INFINITE;  // per stub: stopped where it spins when it has not returned by then
  std::string report_file;      // the reports go here, where the stubs' own output cannot reach; "" stdout
};

// An image file in this process: placed, relocated, its imports bound, its code read-execute. Its memory
// goes with it.
struct Loaded {
  imagefile::File file;
  Placed placed;
  uint64_t text_address = 0;
  std::vector<const imagefile::Symbol*> imports;  // in slot order, as the probes number them
  Loaded() = default;
  Loaded(const Loaded&) = delete;
  ~Loaded() {
    if (placed.base) VirtualFree(placed.base, 0, MEM_RELEASE);
  }
};

// Writes each import's slot: the real function, or its logging probe. "" or what went wrong.
std::string bind_imports(Loaded& image, bool use_probes) {
  for (const imagefile::Symbol& s : image.file.symbols) {
    if (s.kind != "import") continue;
    if (image.imports.size() == kMaxImports) return "more imports than winrun probes";
    HMODULE dll = LoadLibraryA(s.dll.c_str());
    void* function = dll ? reinterpret_cast<void*>(GetProcAddress(dll, s.function.c_str())) : nullptr;
    if (!function) return "cannot resolve " + s.dll + "!" + s.function;
    g_real[image.imports.size()] = function;
    g_out32[image.imports.size()] = imagefile::out32_parameters(s.signature);
    void* target = use_probes ? kProbes[image.imports.size()] : function;
    std::memcpy(reinterpret_cast<void*>(image.placed.place(s.address)), &target, 8);
    image.imports.push_back(&s);
  }
  return "";
}

// "" or why the image file at `path` could not be loaded.
std::string load(const std::string& path, bool use_probes, Loaded& image) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open " + path;
  std::stringstream text;
  text << in.rdbuf();
  imagefile::File& file = image.file;
  std::string error;
  if (!imagefile::parse(text.str(), path, file, error)) return error;
  for (const imagefile::Symbol& s : file.symbols)
    if (s.kind == "external") return s.name + " is external (another TEXT symbol or file) and not bound";
  if (!allocate(file, image.placed, error)) return error;
  const imagefile::Section* text_section = file.section("text");
  image.text_address = image.placed.place(text_section->address);
  for (const imagefile::Section& s : file.sections)
    std::memcpy(reinterpret_cast<void*>(image.placed.place(s.address)), s.bytes.data(), s.bytes.size());
  std::span<uint8_t> code(reinterpret_cast<uint8_t*>(image.text_address), text_section->bytes.size());
  for (const imagefile::Reloc& r : file.relocs)
    if (!imagefile::apply(code, image.text_address, r, image.placed.place(file.find(r.symbol)->address)))
      return "relocation at +" + std::to_string(r.offset) + " against " + r.symbol + " does not fit";
  if (auto bound = bind_imports(image, use_probes); !bound.empty()) return bound;

  // Code pages read-execute; a data page that shares one with code would become executable: refuse.
  const uint64_t page = 0x1000;
  const uint64_t code_start = image.text_address & ~(page - 1);
  const uint64_t code_end = (image.text_address + text_section->bytes.size() + page - 1) & ~(page - 1);
  if (const imagefile::Section* data = file.section("data")) {
    const uint64_t data_address = image.placed.place(data->address);
    if (data_address < code_end && data_address + data->bytes.size() > code_start) return "text and data share a page";
  }
  DWORD old = 0;
  if (!VirtualProtect(reinterpret_cast<void*>(code_start), code_end - code_start, PAGE_EXECUTE_READ, &old))
    return "VirtualProtect failed: " + std::to_string(GetLastError());
  FlushInstructionCache(GetCurrentProcess(), reinterpret_cast<void*>(code_start), code_end - code_start);
  return "";
}

// Calls the stub on a thread of its own; `stopped` says where it was when it had not returned in time.
std::string call_on_thread(Call& call, DWORD timeout_ms, std::string& stopped) {
  HANDLE thread = CreateThread(nullptr, 16u << 20, call_stub, &call, STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (!thread) return "CreateThread failed: " + std::to_string(GetLastError());
  if (WaitForSingleObject(thread, timeout_ms) == WAIT_TIMEOUT) {
    SuspendThread(thread);
    CONTEXT context{};
    context.ContextFlags = CONTEXT_CONTROL;
    GetThreadContext(thread, &context);
    TerminateThread(thread, 1);
    stopped = ", \"timed_out\": true, \"rip\": " + std::to_string(context.Rip);
  }
  CloseHandle(thread);
  return "";
}

// The report's calls, and the registers and unwind results when they were observed.
std::string report_details(const Loaded& image, const Call& call, bool registered, bool unwind_check) {
  std::string out = ", \"calls\": [";
  for (size_t i = 0; i < g_calls.size(); ++i) {
    const CallLog& c = g_calls[i];
    const imagefile::Symbol& s = *image.imports[c.import];
    out += (i ? ", " : "") + std::string("{\"function\": ") + json_string(s.function) + ", \"dll\": " +
           json_string(s.dll) + ", \"args\": [";
    for (int a = 0; a < 5; ++a) out += (a ? ", " : "") + std::to_string(c.args[a]);
    out += "], \"entry_rsp\": " + std::to_string(c.entry_rsp) + ", \"return_address\": " +
           std::to_string(c.return_address) + ", \"result\": " + std::to_string(c.result) +
           ", \"last_error\": " + std::to_string(c.last_error) + ", \"out\": [";
    for (size_t k = 0; k < c.out.size(); ++k)
      out += (k ? ", [" : "[") + std::to_string(c.out[k].first) + ", " + std::to_string(c.out[k].second) + "]";
    out += "]}";
  }
  out += "], \"unwind_registered\": " + std::string(registered ? "true" : "false");
  if (call.guarded) {
    out += ", \"after\": {\"rflags\": " + std::to_string(call.guard.rflags) + ", \"before\": [";
    for (int k = 0; k < 8; ++k) out += (k ? ", " : "") + std::to_string(call.guard.before[k]);
    out += "], \"gp\": [";
    for (int k = 0; k < 8; ++k) out += (k ? ", " : "") + std::to_string(call.guard.after[k]);
    out += "]}";
  }
  if (unwind_check) {  // an image without unwind data had nothing registered: no boundary checked
    out += ", \"unwind\": {\"checked\": " + std::to_string(call.check ? call.result.checked : 0) + ", \"failures\": [";
    for (size_t k = 0; k < call.result.failures.size(); ++k)
      out += (k ? ", [" : "[") + std::to_string(call.result.failures[k].offset) + ", " +
             json_string(call.result.failures[k].what) + "]";
    out += "]}";
  }
  return out;
}

std::string run_image(const std::string& path, const Options& options) {
  auto fail = [&](const std::string& why) {
    return "{\"image\": " + json_string(path) + ", \"error\": " + json_string(why) + "}";
  };
  Loaded image;
  if (auto error = load(path, options.use_probes, image); !error.empty()) return fail(error);
  const imagefile::File& file = image.file;
  const bool registered = register_unwind(file, image.placed, image.text_address);
  g_calls.clear();
  g_fault = {};
  g_stub_text = image.text_address, g_stub_size = file.code_size;
  Call call{image.text_address, file.code_size, image.text_address + file.entry, options.unwind_check && registered,
            &options.args, 0, {}};
  std::string stopped;  // the stub still running at the timeout: where it was
  if (auto error = call_on_thread(call, options.timeout_ms, stopped); !error.empty()) return fail(error);
  const std::string faulted = !g_fault.code ? "" : ", \"exception\": {\"code\": " + std::to_string(g_fault.code) +
      ", \"rip\": " + std::to_string(g_fault.rip) + ", \"address\": " + std::to_string(g_fault.address) + "}";
  if (registered) RtlDeleteFunctionTable(reinterpret_cast<RUNTIME_FUNCTION*>(image.placed.base + image.placed.size - 0x1000));

  const imagefile::Section* data = file.section("data");
  return "{\"image\": " + json_string(path) + ", \"stub\": " + json_string(file.stub) +
         ", \"text_address\": " + std::to_string(image.text_address) + ", \"data_address\": " +
         std::to_string(data ? image.placed.place(data->address) : 0) +
         ", \"at_image_addresses\": " + (image.placed.at_image_addresses ? "true" : "false") +
         ", \"returned\": " + (stopped.empty() && !g_fault.code ? "true" : "false") + stopped + faulted +
         ", \"value\": " + std::to_string(call.value) + report_details(image, call, registered, options.unwind_check) +
         "}";
}

}  // namespace

int main(int argc, char** argv) {
  // Bytes as written: the markers' "\n" must not become "\r\n" on the way out.
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  Options options;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--probe") options.use_probes = true;
    else if (arg == "--mark") options.mark = true;
    else if (arg == "--unwind-check") options.unwind_check = true;
    else if (arg == "--timeout" && i + 1 < argc) options.timeout_ms = static_cast<DWORD>(std::stoul(argv[++i]));
    else if (arg == "--report" && i + 1 < argc) options.report_file = argv[++i];
    else if (arg == "--args" && i + 1 < argc) {
      for (std::stringstream list(argv[++i]); std::getline(list, arg, ',');) options.args.push_back(std::stoull(arg, nullptr, 0));
      if (options.args.size() > 8) return std::fprintf(stderr, "winrun: at most 8 arguments\n"), 2;
    }
    else if (arg.starts_with("--")) return std::fprintf(stderr, "winrun: unknown option %s\n", arg.c_str()), 2;
    else paths.push_back(arg);
  }
  if (paths.empty())
    return std::fprintf(stderr, "usage: winrun [--probe] [--mark] [--unwind-check] [--args A,B,...] [--timeout MS] "
                                "[--report FILE] FILE.image...\n"), 2;
  // Opened before any stub runs, kept by winrun: a line per image, "N {json}".
  std::FILE* reports = options.report_file.empty() ? stdout : std::fopen(options.report_file.c_str(), "wb");
  if (!reports) return std::fprintf(stderr, "winrun: cannot write %s\n", options.report_file.c_str()), 2;
  AddVectoredExceptionHandler(0, on_stub_exception);
  SetUnhandledExceptionFilter(on_unhandled);
  for (size_t i = 0; i < paths.size(); ++i) {
    if (options.mark) {
      std::fflush(stdout);
      write_marker(stdout, "\x1e" "begin " + std::to_string(i) + "\n");
      write_marker(stderr, "\x1e" "begin " + std::to_string(i) + "\n");
    }
    const std::string report = run_image(paths[i], options);
    std::fprintf(reports, "%zu %s\n", i, report.c_str());
    std::fflush(reports);
  }
  if (reports != stdout) std::fclose(reports);
  std::fflush(stdout);
  return 0;
}
