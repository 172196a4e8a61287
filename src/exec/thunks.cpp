#include "w64stub/exec/thunks.hpp"

#include <fmt/format.h>

#include <cstring>

#include "w64stub/emit/emit.hpp"
#include "w64stub/emit/link.hpp"

namespace w64stub {

namespace {

namespace x86 = asmjit::x86;

Instr op(asmjit::InstId id, std::vector<Operand> operands) { return Instr{id, std::move(operands)}; }

// mov eax, INDEX; jmp dispatcher - both fields left to the placement.
Program thunk_program() {
  Program p;
  p.symbol = "thunk";
  p.externals = {"index", "dispatcher"};
  p.instrs = {op(x86::Inst::kIdMov, {asmjit::Operand(x86::eax), SymbolAddr{"index", 0}}),
              op(x86::Inst::kIdJmp, {SymbolAddr{"dispatcher", 0}})};
  return p;
}

// handler(context, a1, a2, a3, a4): the callback's four register arguments move up one place, the fourth to
// the handler's fifth slot; the thunk's index (EAX) picks {handler, context} from the table.
Program dispatcher_program() {
  Program p;
  p.symbol = "dispatcher";
  p.externals = {"table"};
  const asmjit::Operand rsp = x86::rsp, rax = x86::rax, rcx = x86::rcx, rdx = x86::rdx, r8 = x86::r8, r9 = x86::r9,
                        r10 = x86::r10;
  p.instrs = {op(x86::Inst::kIdSub, {rsp, asmjit::Imm(56)}),  // entry RSP = 8 (mod 16): the call is aligned
              op(x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 32), r9}),
              op(x86::Inst::kIdMov, {r9, r8}),
              op(x86::Inst::kIdMov, {r8, rdx}),
              op(x86::Inst::kIdMov, {rdx, rcx}),
              op(x86::Inst::kIdMov, {r10, SymbolAddr{"table", 0}}),
              op(x86::Inst::kIdShl, {rax, asmjit::Imm(4)}),  // sizeof(Entry); EAX was zero-extended by the thunk
              op(x86::Inst::kIdAdd, {r10, rax}),
              op(x86::Inst::kIdMov, {rcx, x86::qword_ptr(x86::r10, 8)}),
              op(x86::Inst::kIdCall, {x86::qword_ptr(x86::r10)}),
              op(x86::Inst::kIdAdd, {rsp, asmjit::Imm(56)}),
              op(x86::Inst::kIdRet, {})};
  return p;
}

}  // namespace

Expected<Image> ThunkFactory::probe_image(uint32_t index) {
  Program thunk = thunk_program();
  thunk.instrs[0].operands[1] = asmjit::Operand(asmjit::Imm(index));  // as make() writes it
  thunk.externals = {"dispatcher"};
  Program dispatcher = dispatcher_program();
  for (Instr& instr : dispatcher.instrs)  // the table starts 16 * index below entry `index`
    for (Operand& operand : instr.operands)
      if (auto* table = std::get_if<SymbolAddr>(&operand)) *table = SymbolAddr{"handler", -16 * static_cast<int64_t>(index)};
  dispatcher.externals.clear();
  dispatcher.imports = {Import{"handler", "thunks", "handler", "context:u64,a1:u64,a2:u64,a3:u64,a4:u64->u64", 0}};
  std::vector<uint8_t> context(8, 0);
  std::memcpy(context.data(), &index, 4);
  dispatcher.data = {DataSymbol{"context", std::move(context), 8, 8}};
  const std::vector<Program> both = {thunk, dispatcher};
  auto linked = link(both, "thunk", {.relax_between_functions = false});
  if (!linked) return linked.error();
  return emit(*linked, {.model = Model::Abs64, .stub = fmt::format("thunk {}", index)});
}

Expected<Image> ThunkFactory::object_image(uint32_t count) {
  if (count == 0 || count > (uint32_t{1} << 16)) return Error{fmt::format("thunk object: {} thunks (1 to 65536)", count)};
  std::vector<Program> programs;
  for (uint32_t k = 0; k < count; ++k) {
    Program thunk = thunk_program();
    thunk.symbol = fmt::format("{}{}", kThunkSymbol, k);
    thunk.instrs[0].operands[1] = asmjit::Operand(asmjit::Imm(k));  // as make() writes it
    thunk.instrs[1].operands[0] = SymbolAddr{std::string(kDispatcherSymbol), 0};
    thunk.externals = {std::string(kDispatcherSymbol)};
    programs.push_back(std::move(thunk));
  }
  Program dispatcher = dispatcher_program();
  dispatcher.symbol = kDispatcherSymbol;
  for (Instr& instr : dispatcher.instrs)
    for (Operand& operand : instr.operands)
      if (auto* table = std::get_if<SymbolAddr>(&operand)) table->symbol = kTableSymbol;
  dispatcher.externals = {std::string(kTableSymbol)};
  programs.push_back(std::move(dispatcher));
  auto linked = link(programs, {}, {.relax_between_functions = false});  // each thunk keeps its rel32 jump
  if (!linked) return linked.error();
  return emit(*linked, {.model = Model::Abs64, .stub = fmt::format("{} thunks", count)});
}

Expected<ThunkFactory> ThunkFactory::create(size_t capacity) {
  if (capacity == 0 || capacity > (size_t{1} << 26)) return Error{fmt::format("thunk factory: {} thunks (1 to 2^26)", capacity)};
  ThunkFactory f;
  f.capacity_ = capacity;
  auto thunk = emit(thunk_program(), {.model = Model::Go2012});
  if (!thunk) return thunk.error();
  if (thunk->text.bytes.size() > kThunkBytes) return Error{"thunk factory: a thunk is longer than 16 bytes"};
  thunk->text.bytes.resize(kThunkBytes, 0xCC);  // int3 between thunks
  for (const Relocation& r : thunk->relocations) {
    if (r.symbol == "index" && r.kind == RelocKind::Abs32) f.index_field_ = r.offset;
    if (r.symbol == "dispatcher" && r.kind == RelocKind::Rel32) f.jump_field_ = r.offset, f.jump_end_ = r.instr_end;
  }
  if (!f.index_field_ || !f.jump_field_) return Error{"thunk factory: the thunk's fields are not where its encoding should put them"};
  auto made = Template::make(std::move(*thunk));
  if (!made) return made.error();
  f.thunk_ = std::move(*made);
  std::memcpy(f.thunk_bytes_, f.thunk_.image().text.bytes.data(), kThunkBytes);

  auto dispatcher = emit(dispatcher_program(), {.model = Model::Abs64});
  if (!dispatcher) return dispatcher.error();
  f.dispatcher_ = std::move(*dispatcher);
  auto placed = Template::make(f.dispatcher_);
  if (!placed) return placed.error();

  auto arena = CodeArena::create({.capacity = f.dispatcher_.text.bytes.size() + 16 + capacity * kThunkBytes});
  if (!arena) return arena.error();
  f.arena_ = std::make_unique<CodeArena>(std::move(*arena));
  f.table_ = std::make_unique<Entry[]>(capacity);
  auto slot = f.arena_->allocate(f.dispatcher_.text.bytes.size(), 16);
  if (!slot) return slot.error();
  const uint64_t table = reinterpret_cast<uint64_t>(f.table_.get());
  if (auto s = placed->place(slot->address, 0, {&table, 1}, slot->bytes, {}); !s) return s.error();
  f.dispatcher_address_ = slot->address;
  auto thunks = f.arena_->allocate(capacity * kThunkBytes, kThunkBytes);
  if (!thunks) return thunks.error();
  f.thunks_ = *thunks;
  f.update_fast_until();
  return f;
}

// A full factory, a reopened batch or a released slot to reuse: out of line, so that make()'s common path
// saves no registers.
Expected<uint64_t> ThunkFactory::make_slow(ThunkHandler handler, void* context) {
  if (count_ == capacity_ && released_.empty()) return Error{fmt::format("thunk factory: all {} thunks are made", capacity_)};
  if (auto s = reopen(); !s) return s.error();
  if (released_.empty()) return place(count_++, handler, context);
  const uint32_t index = released_.back();
  released_.pop_back();
  update_fast_until();
  return place(index, handler, context);
}

Status ThunkFactory::release(uint64_t thunk) {
  const uint64_t index = (thunk - thunks_.address) / kThunkBytes;  // wraps for an address below the thunks
  // A live thunk starts as the template does (mov eax, imm32); a released one with int3.
  if (thunk % kThunkBytes != 0 || index >= count_ || thunks_.bytes[index * kThunkBytes] != thunk_bytes_[0])
    return Error{fmt::format("thunk factory: {:#x} is not a live thunk of this factory", thunk)};
  if (auto s = reopen(); !s) return s;
  std::memset(thunks_.bytes.data() + index * kThunkBytes, 0xCC, kThunkBytes);
  table_[index] = {nullptr, nullptr};
  released_.push_back(static_cast<uint32_t>(index));
  fast_until_ = 0;
  return Ok{};
}

// The first write since a commit (Protected mode: the arena turns writable again).
Status ThunkFactory::reopen() {
  if (open_) return Ok{};
  if (auto s = arena_->reopen(); !s) return s;
  open_ = true;
  update_fast_until();
  return Ok{};
}

Status ThunkFactory::make(std::span<const ThunkTarget> targets, std::span<uint64_t> addresses) {
  if (addresses.size() != targets.size())
    return Error{fmt::format("thunk factory: {} targets but room for {} addresses", targets.size(), addresses.size())};
  if (targets.size() > capacity_ - size())
    return Error{fmt::format("thunk factory: {} more thunks do not fit ({} of {} are live)", targets.size(), size(), capacity_)};
  if (auto s = reopen(); !s) return s;
  size_t k = 0;
  for (; k < targets.size() && !released_.empty(); ++k, released_.pop_back())  // the released slots first
    addresses[k] = place(released_.back(), targets[k].handler, targets[k].context);
  for (; k < targets.size(); ++k) addresses[k] = place(count_++, targets[k].handler, targets[k].context);
  update_fast_until();
  return Ok{};
}


}  // namespace w64stub
