#include "w64stub/core/frame.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "w64stub/core/disasm.hpp"

namespace w64stub {

bool Frame::calls_aligned() const {
  return std::all_of(calls.begin(), calls.end(), [](const CallSite& c) { return c.aligned(); });
}

namespace {

// One walk of the code: a worklist of paths, each with RSP's depth below the entry and the stack slots
// written since the last call (for the outgoing stack arguments).
class Walker {
 public:
  Walker(const Image& image, int entry_residue) : image_(image) {
    frame_.declared = image.declared_frame;
    frame_.entry_residue = entry_residue;
    for (size_t i = 0; i < image.instrs.size(); ++i) {
      index_[image.instrs[i].offset] = i;
      auto d = decode_one({image.text.bytes.data() + image.instrs[i].offset, image.instrs[i].length},
                          image.text.address + image.instrs[i].offset);
      decoded_.push_back(d ? std::optional<Decoded>(std::move(*d)) : std::nullopt);
    }
  }
  Frame run();

 private:
  struct Path {
    size_t at;
    int64_t depth;             // bytes below the entry RSP
    std::set<int64_t> stored;  // [RSP+k] written since the last call
  };
  // Follows one path until it ends; false when the instruction ends it.
  bool step(Path& path);
  std::string where(size_t i) const {
    const InstrInfo& in = image_.instrs[i];
    return in.loc.line > 0 ? in.loc.str() : fmt::format("+{:#x}", in.offset);
  }
  void note(std::string text) { frame_.notes.push_back(std::move(text)); }
  std::optional<size_t> instr_at_address(uint64_t address) const {
    if (address < image_.text.address) return std::nullopt;
    auto it = index_.find(address - image_.text.address);
    return it == index_.end() ? std::nullopt : std::optional<size_t>(it->second);
  }

  const Image& image_;
  Frame frame_;
  std::map<uint64_t, size_t> index_;  // offset -> instruction
  std::vector<std::optional<Decoded>> decoded_;
  std::vector<std::optional<int64_t>> seen_;
  std::vector<Path> work_;
  bool indirect_noted_ = false;
};

bool Walker::step(Path& path) {
  const size_t i = path.at++;
  if (seen_[i]) {
    if (*seen_[i] != path.depth)
      note(fmt::format("{}: reached with RSP {} and {} bytes below entry on different paths", where(i), *seen_[i],
                       path.depth));
    return false;
  }
  seen_[i] = path.depth;
  if (!decoded_[i]) return note(fmt::format("{}: cannot be decoded; this path is not followed further", where(i))), false;
  const Decoded& d = *decoded_[i];
  if (d.rsp_untracked) {
    note(fmt::format("{}: RSP written by an instruction the analysis does not follow; this path is not followed "
                     "further", where(i)));
    return false;
  }
  path.depth += d.rsp_down;
  frame_.explicit_adjust = std::max<int32_t>(frame_.explicit_adjust, static_cast<int32_t>(path.depth) - frame_.declared);
  if (d.rsp_store) path.stored.insert(*d.rsp_store);
  const std::optional<size_t> target = d.target ? instr_at_address(*d.target) : std::nullopt;
  switch (d.flow) {
    case Flow::Next: return true;
    case Flow::Call: {
      const auto depth = static_cast<int32_t>(path.depth);
      frame_.calls.push_back({image_.instrs[i].offset, depth, ((frame_.entry_residue - depth) % 16 + 16) % 16,
                              image_.instrs[i].loc});
      frame_.shadow = win64::kHomeArea;
      int32_t args = 0;
      while (path.stored.count(win64::call_slot(win64::kRegisterArguments + args))) ++args;
      frame_.stack_args = std::max(frame_.stack_args, args);
      path.stored.clear();
      return true;
    }
    case Flow::Return:
      if (path.depth != 0) {
        frame_.balanced = false;
        note(fmt::format("{}: RET with RSP {} bytes {} its entry value", where(i), std::abs(path.depth),
                         path.depth > 0 ? "below" : "above"));
      }
      return false;
    case Flow::Stop: return false;
    case Flow::Branch:
      if (target) work_.push_back({*target, path.depth, path.stored});
      return true;
    case Flow::Jump:
      if (target) return path.at = *target, true;
      if (!indirect_noted_)
        note(fmt::format("{}: an indirect jump; its targets are not followed", where(i)));
      indirect_noted_ = true;
      return false;
  }
  return false;
}

Frame Walker::run() {
  seen_.assign(image_.instrs.size(), std::nullopt);
  work_.push_back({0, 0, {}});
  while (!work_.empty()) {
    Path path = std::move(work_.back());
    work_.pop_back();
    while (path.at < image_.instrs.size() && step(path)) {
    }
  }
  std::sort(frame_.calls.begin(), frame_.calls.end(),
            [](const CallSite& a, const CallSite& b) { return a.offset < b.offset; });
  frame_.locals = std::max(0, frame_.total() - frame_.shadow - win64::kSlot * frame_.stack_args);
  if (!frame_.calls.empty() && frame_.total() < frame_.shadow + win64::kSlot * frame_.stack_args)
    note(fmt::format("frame of {} bytes is smaller than the home area and {} stack argument(s) its calls need",
                     frame_.total(), frame_.stack_args));
  return std::move(frame_);
}

}  // namespace

Frame analyze_frame(const Image& image, int entry_residue) { return Walker(image, entry_residue).run(); }

}  // namespace w64stub
