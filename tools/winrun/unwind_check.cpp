#include "unwind_check.hpp"

#include <windows.h>

#include <cstdio>
#include <cstring>

namespace winrun {

namespace {

constexpr DWORD kTrapFlag = 0x100;
constexpr size_t kMaxFailures = 16;

// pushfq; or qword [rsp], 0x100; popfq; jmp [rip]; .quad entry -- the trap fires after the jmp, at the entry.
constexpr uint8_t kEntryThunk[] = {0x9C, 0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9D,
                                   0xFF, 0x25, 0x00, 0x00, 0x00, 0x00};

struct State {
  bool active = false, entered = false;
  uint64_t text = 0, size = 0;
  uint64_t pad = 0;                    // the breakpoint calls out return to
  uint64_t hijacked = 0;               // the return address the breakpoint stands for
  uint64_t rsp0 = 0, ret = 0;          // at entry
  DWORD64 gp0[8] = {};                 // RBX, RBP, RDI, RSI, R12-R15 at entry
  M128A xmm0[10] = {};                 // XMM6-XMM15 at entry
  UnwindCheck result;
};
State g;

void gps(const CONTEXT& c, DWORD64 out[8]) {
  const DWORD64 v[8] = {c.Rbx, c.Rbp, c.Rdi, c.Rsi, c.R12, c.R13, c.R14, c.R15};
  std::memcpy(out, v, sizeof v);
}
const M128A* xmms(const CONTEXT& c) { return &c.Xmm6; }

void fail(uint64_t offset, const std::string& what) {
  if (g.result.failures.size() < kMaxFailures) g.result.failures.push_back({offset, what});
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Windows' unwinder at this boundary must give back the caller's state.
void check(const CONTEXT& at) {
  const uint64_t offset = at.Rip - g.text;
  ++g.result.checked;
  DWORD64 base = 0;
  PRUNTIME_FUNCTION function = RtlLookupFunctionEntry(at.Rip, &base, nullptr);
  if (!function) return fail(offset, "RtlLookupFunctionEntry finds no function entry");
  CONTEXT c = at;
  PVOID handler_data = nullptr;
  DWORD64 establisher = 0;
  RtlVirtualUnwind(UNW_FLAG_NHANDLER, base, at.Rip, function, &c, &handler_data, &establisher, nullptr);
  if (c.Rip != g.ret) fail(offset, "RtlVirtualUnwind gives RIP " + hex(c.Rip) + ", not the return address " + hex(g.ret));
  if (c.Rsp != g.rsp0 + 8) fail(offset, "RtlVirtualUnwind gives RSP " + hex(c.Rsp) + ", not entry RSP + 8 = " + hex(g.rsp0 + 8));
  static const char* const kNames[8] = {"RBX", "RBP", "RDI", "RSI", "R12", "R13", "R14", "R15"};
  DWORD64 now[8];
  gps(c, now);
  for (int i = 0; i < 8; ++i)
    if (now[i] != g.gp0[i]) fail(offset, std::string(kNames[i]) + " unwinds to " + hex(now[i]) + ", not its entry value " + hex(g.gp0[i]));
  for (int i = 0; i < 10; ++i)
    if (std::memcmp(&xmms(c)[i], &g.xmm0[i], sizeof(M128A)) != 0) fail(offset, "XMM" + std::to_string(6 + i) + " unwinds to another value than at entry");
}

LONG CALLBACK on_exception(EXCEPTION_POINTERS* ep) {
  CONTEXT* ctx = ep->ContextRecord;
  const DWORD code = ep->ExceptionRecord->ExceptionCode;
  if (!g.active) return EXCEPTION_CONTINUE_SEARCH;
  if (code == EXCEPTION_BREAKPOINT && (ctx->Rip == g.pad || ctx->Rip == g.pad + 1)) {
    ctx->Rip = g.hijacked;  // back from a call out: check the boundary after the CALL, then step on
    check(*ctx);
    ctx->EFlags |= kTrapFlag;
    return EXCEPTION_CONTINUE_EXECUTION;
  }
  if (code != EXCEPTION_SINGLE_STEP) return EXCEPTION_CONTINUE_SEARCH;
  const uint64_t rip = ctx->Rip;
  if (rip >= g.text && rip < g.text + g.size) {
    if (!g.entered) {
      g.entered = true;
      g.rsp0 = ctx->Rsp;
      g.ret = *reinterpret_cast<const uint64_t*>(ctx->Rsp);
      gps(*ctx, g.gp0);
      std::memcpy(g.xmm0, xmms(*ctx), sizeof g.xmm0);
    }
    check(*ctx);
    ctx->EFlags |= kTrapFlag;
    return EXCEPTION_CONTINUE_EXECUTION;
  }
  ctx->EFlags &= ~kTrapFlag;
  if (!g.entered || rip == g.ret) return EXCEPTION_CONTINUE_EXECUTION;  // done, or not yet in
  // A call (or tail jump) out: it runs at full speed; a call comes back through the breakpoint.
  uint64_t& slot = *reinterpret_cast<uint64_t*>(ctx->Rsp);
  if (slot != g.ret) {
    g.hijacked = slot;
    slot = g.pad;
  }
  return EXCEPTION_CONTINUE_EXECUTION;
}

}  // namespace

uint64_t real_return_address(uint64_t seen) { return g.active && seen == g.pad ? g.hijacked : seen; }

UnwindCheck call_checked(uint64_t text, uint64_t size, uint64_t entry, const uint64_t a[8], uint64_t* value,
                         GuardState* state) {
  auto* code = static_cast<uint8_t*>(VirtualAlloc(nullptr, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
  std::memcpy(code, kEntryThunk, sizeof kEntryThunk);
  std::memcpy(code + sizeof kEntryThunk, &entry, 8);
  code[64] = 0xCC;  // the breakpoint calls out return to
  DWORD old = 0;
  VirtualProtect(code, 0x1000, PAGE_EXECUTE_READ, &old);
  g = State{};
  g.text = text;
  g.size = size;
  g.pad = reinterpret_cast<uint64_t>(code + 64);
  g.active = true;
  void* handler = AddVectoredExceptionHandler(1, on_exception);
  *value = winrun_guarded_call(reinterpret_cast<uint64_t>(code), a, state);
  RemoveVectoredExceptionHandler(handler);
  g.active = false;
  VirtualFree(code, 0, MEM_RELEASE);
  return g.result;
}

}  // namespace winrun
