// The harness's asmjit code: the caller that enters the stub, and the hostile callee behind each import.
#pragma once

#include <cstdint>
#include <vector>

#include "outcome_p.hpp"
#include "w64stub/exec/jit.hpp"

namespace w64stub::harness {

// What a callee thunk calls (Win64 convention, like the stub's own callees): first with the four register
// arguments, RSP at its entry, the context and the import index; then for the result.
using RecordCall = __attribute__((ms_abi)) void (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, void*, uint64_t);
using AnswerCall = __attribute__((ms_abi)) uint64_t (*)(void*);

// Many trampolines in few pages: each is written read-write, and seal() makes them all read-execute at once.
// A child's batch maps a page or two for all its callees and callers, where a mapping each cost a page fault
// and two system calls each. Nothing in it runs before it is sealed, nor is added after.
class CodePool {
 public:
  // Where `code` went: the pool's pages, or with `near` pages of its own within 1 GiB after that address.
  Expected<uint64_t> add(asmjit::CodeHolder& code, uint64_t near = 0);
  Status seal();

 private:
  std::vector<Mapping> pages_;
  uint8_t* next_ = nullptr;  // the free part of the last page set the pool fills
  size_t left_ = 0;
  bool sealed_ = false;
};

// A hostile but legal Win64 callee for import `index`: records (XMM0-XMM3 into `xmm_args` first), wrecks its
// home area, answers (on a stack it realigns), clobbers every volatile register but RAX. `near`: code that
// calls it directly (an external's rel32) lies there; 0 for callees reached through import slots.
Expected<uint64_t> build_callee(CodePool& pool, void* context, uint32_t index, RecordCall record, AnswerCall answer,
                                uint64_t* xmm_args, uint64_t near = 0);

// SysV-callable: sets the entry condition, the canaries and the marker, calls the stub, records everything in
// `out`, and returns to the harness whatever the stub did to RSP.
// With a signature, it passes argument_canary(i) as argument i (registers, then stack slots above the home
// area); the marker then sits above those.
Expected<uint64_t> build_caller(CodePool& pool, Outcome* out, uint64_t stub, int entry_residue,
                                const win64::Signature* signature);

}  // namespace w64stub::harness
