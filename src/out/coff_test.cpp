// write_object against GNU as: for every catalog stub, variant, model and policy, llvm-readobj and mingw-w64's
// objdump must show the same sections, relocations, symbols and unwind codes in our object as in the object
// GNU as made of refgen's translation (testdata/ref/obj). Every object written here is also linked by ld.
#include "w64stub/out/coff.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "../testing/test_support.hpp"
#include "w64stub/emit/link.hpp"
#include "w64stub/plan9/asm.hpp"

namespace w64stub {
namespace {

std::string trim(std::string_view s) {
  const size_t first = s.find_first_not_of(' ');
  return first == std::string_view::npos ? "" : std::string(s.substr(first));
}

// What llvm-readobj shows of an object, without what legitimately differs between two writers: file offsets,
// symbol indexes, symbol order, .file, and the padding GNU as adds after a section's last byte (cut to the
// length its section symbol gives).
struct ObjectDump {
  std::map<std::string, std::string> sections;  // name -> "FLAGS BYTES"
  std::vector<std::string> relocations, unwind, symbols;
  bool operator==(const ObjectDump&) const = default;
};

ObjectDump read_object(const std::string& path) {
  std::istringstream in(test::output_of(fmt::format("llvm-readobj --sections --section-data --relocations --symbols --unwind {}", path)));
  ObjectDump d;
  std::map<std::string, std::string> flags, bytes;
  std::map<std::string, size_t> lengths;
  std::string block, section, reloc_section;
  std::map<std::string, std::string> symbol;  // the fields of the symbol being read
  auto end_symbol = [&] {
    const std::string name = symbol["Name"];
    if (!name.empty() && name[0] != '.')
      d.symbols.push_back(fmt::format("{} value {} section {} type {} class {}", name, symbol["Value"], symbol["Section"],
                                      symbol["ComplexType"], symbol["StorageClass"]));
    symbol.clear();
  };
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ') block = line;  // "Sections [", "Relocations [", ...
    const std::string t = trim(line);
    if (block.starts_with("Sections")) {
      if (t.starts_with("Name: ")) section = t.substr(6, t.find(' ', 6) - 6);
      if (t.starts_with("Characteristics [")) flags[section] = t.substr(t.find('('));
      if (t.size() > 6 && t[4] == ':' && t.find('|') != std::string::npos)  // "0000: 4883EC38 ... |H..8|"
        for (char c : t.substr(6, t.find('|') - 6))
          if (c != ' ') bytes[section] += c;
    } else if (block.starts_with("Relocations")) {
      if (t.starts_with("Section (")) reloc_section = t.substr(t.find(')') + 2, t.find(" {") - t.find(')') - 2);
      if (t.starts_with("0x")) d.relocations.push_back(reloc_section + " " + t.substr(0, t.rfind(" (")));
    } else if (block.starts_with("UnwindInformation")) {
      // A function's bounds name the symbol llvm-readobj finds there, which depends on the symbol table's order
      // (a static function and its section's symbol share an address); .pdata's relocations and bytes,
      // compared above, say which function it is.
      if (t.starts_with("StartAddress: ") || t.starts_with("EndAddress: ")) d.unwind.push_back(t.substr(0, t.find(' ')) + " " + t.substr(t.rfind('(')));
      else if (!t.empty()) d.unwind.push_back(t);
    } else if (block.starts_with("Symbols")) {
      if (t == "Symbol {") end_symbol();
      const size_t colon = t.find(": ");
      if (colon != std::string::npos) symbol[t.substr(0, colon)] = t.substr(colon + 2);
      if (t.starts_with("Length: ")) lengths[symbol["Name"]] = std::stoul(t.substr(8));
    }
  }
  end_symbol();
  std::sort(d.symbols.begin(), d.symbols.end());
  for (auto& [name, hex] : bytes) {
    const std::string kept = hex.substr(0, 2 * lengths[name]);
    if (!kept.empty()) d.sections[name] = flags[name] + " " + kept;
  }
  return d;
}

// objdump -d -r: the disassembly and relocations of .text, without GNU as's trailing nop padding and
// without the symbol objdump guesses for a RIP-relative target (`# 3d <f+0x22>`: it depends on the symbol
// table's order; the address stays, and the relocation lines say what the field refers to).
std::string disassembly(const std::string& path) {
  const std::string all = test::output_of(fmt::format("x86_64-w64-mingw32-objdump -d -r {}", path));
  std::vector<std::string> lines;
  std::istringstream in(all.substr(std::min(all.size(), all.find("Disassembly of section"))));
  for (std::string line; std::getline(in, line);) {
    if (const size_t comment = line.find("        # "); comment != std::string::npos && line.find(" <", comment) != std::string::npos)
      line.erase(line.find(" <", comment));
    lines.push_back(line);
  }
  while (!lines.empty() && (lines.back().empty() || lines.back().ends_with("\tnop"))) lines.pop_back();
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// Our object against the reference as llvm-readobj and objdump show them: sections with their bytes,
// relocations, symbols, unwind data and the disassembly. Gives ours back, for checks of its own.
ObjectDump check_same_object(const std::string& reference, const std::string& ours) {
  const ObjectDump expected = read_object(reference), got = read_object(ours);
  CHECK(expected.sections == got.sections);
  CHECK(expected.relocations == got.relocations);
  CHECK(expected.symbols == got.symbols);
  CHECK(expected.unwind == got.unwind);
  CHECK(disassembly(reference) == disassembly(ours));
  return got;
}

bool tools_present() {
  return std::system("command -v llvm-readobj >/dev/null && command -v x86_64-w64-mingw32-objdump >/dev/null && "
                     "command -v x86_64-w64-mingw32-gcc >/dev/null") == 0;
}

// ld links the object into an executable with a main that calls nothing: every symbol resolved, every
// relocation fits (go2012 below 2 GiB and without ASLR, as 6l's PE).
std::string link_errors(const std::string& object, Model model, const std::filesystem::path& dir) {
  std::ofstream(dir / "main.c") << "int main(void) { return 0; }\n";
  const std::string flags = model == Model::Go2012 ? "-Wl,--image-base=0x400000 -Wl,--disable-dynamicbase" : "";
  return test::output_of(fmt::format("x86_64-w64-mingw32-gcc -o {0}/main.exe {0}/main.c {1} {2} 2>&1 && echo linked",
                               dir.string(), object, flags));
}

TEST_CASE("obj: every catalog stub, variant, model and policy is GNU as's object of refgen's translation") {
  REQUIRE_MESSAGE(tools_present(), "llvm-readobj and mingw-w64 are needed: apt-get install llvm binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64");
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-coff-{}", getpid());
  std::filesystem::create_directories(dir);
  int compared = 0;
  for (const CatalogStub& stub : catalog_stubs())
    for (Variant v : kVariants)
      for (Model m : kModels)
        for (Policy p : kPolicies) {
          const std::string stem = fmt::format("{}.{}.{}.{}", stub.name, name(v), name(m), name(p));
          const std::string reference = test::ref_path("obj/" + stem, "obj");
          if (!std::filesystem::exists(reference)) continue;  // abs64 faithful: refused by emit, no reference
          CAPTURE(stem);
          auto object = write_object(test::emit_catalog(stub.name, v, m, p));
          REQUIRE(object);
          CHECK(object->notes.empty());
          const std::string ours = (dir / (stem + ".obj")).string();
          test::write_bytes(ours, object->bytes);
          CHECK(!check_same_object(reference, ours).unwind.empty());
          CHECK(link_errors(ours, m, dir).ends_with("linked\n"));
          ++compared;
        }
  CHECK(compared == 48);
  std::filesystem::remove_all(dir);
}

TEST_CASE("obj: a whole Plan 9 file - calls, a static function, externals, imports, data with addends - is GNU as's object") {
  REQUIRE_MESSAGE(tools_present(), "llvm-readobj and mingw-w64 are needed: apt-get install llvm binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64");
  const std::string testdata = std::string(W64STUB_REF_DIR) + "/..";
  auto file = assemble_plan9_file(testdata + "/coff/forms.s", {});
  REQUIRE(file);
  REQUIRE(file->errors.empty());
  auto linked = link(file->programs);
  REQUIRE(linked);
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-coff-forms-{}", getpid());
  std::filesystem::create_directories(dir);
  for (Model m : {Model::Rip, Model::Go2012}) {
    CAPTURE(name(m));
    auto image = emit(*linked, {m, Policy::As});
    REQUIRE(image);
    auto object = write_object(*image);
    REQUIRE(object);
    CHECK(object->notes.empty());
    const std::string ours = (dir / "forms.obj").string(), reference = fmt::format("{}/plan9obj/forms.{}.obj", W64STUB_REF_DIR, name(m));
    test::write_bytes(ours, object->bytes);
    CHECK(check_same_object(reference, ours).relocations.size() >= 8);
    std::ofstream(dir / "helper.c") << "void helper(void) __asm__(\"forms.helper\"); void helper(void) {}\n";
    CHECK(link_errors(ours + " " + (dir / "helper.c").string(), m, dir).ends_with("linked\n"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace w64stub

namespace w64stub {
namespace {

Image rip_stub() { return test::emit_catalog("badcallback", Variant::Abi, Model::Rip); }

std::string refusal(const Image& image) {
  auto object = write_object(image);
  return object ? "written" : object.error().message;
}

TEST_CASE("obj: what an object cannot hold is refused, naming it - never a malformed object") {
  Image image = rip_stub();
  image.relocations[0].addend = int64_t{1} << 40;
  CHECK(refusal(image) == "badcallback:5:2: +0x12: runtime·GetStdHandle+0x10000000000 does not fit the 32-bit field");
  image = rip_stub();
  image.relocations[1].symbol = "runtime·nowhere";
  CHECK(refusal(image) == "badcallback:9:2: +0x22: a relocation to runtime·nowhere, which the image does not define");
  image = rip_stub();
  image.relocations[1].offset = image.code_size - 2;
  CHECK(refusal(image).ends_with("a relocation outside the code (95 bytes)"));

  // Each field its own range. A sign-extended one (abs32s) holds up to 2^31 - 1; a zero-extended one (abs32)
  // also takes a negative addend, which the linker adds modulo 2^32 (len-8 is 8 bytes below len).
  for (RelocKind kind : {RelocKind::Abs32S, RelocKind::Abs32}) {
    CAPTURE(name(kind));
    image = test::emit_catalog("badcallback", Variant::Faithful, Model::Go2012);
    auto data_field = std::find_if(image.relocations.begin(), image.relocations.end(), [&](const Relocation& r) {
      return r.kind == kind && image.find_symbol(r.symbol)->kind == SymbolKind::Data;
    });
    REQUIRE(data_field != image.relocations.end());
    data_field->addend = kind == RelocKind::Abs32S ? int64_t{1} << 31 : -8;
    if (kind == RelocKind::Abs32S) CHECK(refusal(image).ends_with("does not fit the 32-bit field"));
    else CHECK(refusal(image) == "written");
  }
  image = rip_stub();
  image.relocations[1].offset = image.code_size - 2;
  CHECK(refusal(image).ends_with("a relocation outside the code (95 bytes)"));
  image = rip_stub();
  Symbol twin = *image.find_symbol("runtime·badcallbacklen");
  twin.name = "runtime.badcallbacklen";
  image.symbols.push_back(twin);
  CHECK(refusal(image) == "badcallback: runtime·badcallbacklen and runtime.badcallbacklen both become the linkable name "
                          "runtime.badcallbacklen");
  image = rip_stub();
  Symbol nameless = *image.find_symbol("runtime·badcallbacklen");
  nameless.name = "<>";
  image.symbols.push_back(nameless);
  CHECK(refusal(image) == "badcallback: <>: \"\" cannot be a COFF symbol name");
  image = rip_stub();
  image.relocations.resize(70000, image.relocations[0]);
  CHECK(refusal(image) == "badcallback: 70000 relocations in .text; a COFF section counts at most 65535");
}

TEST_CASE("obj: ld refuses a go2012 object linked above 2 GiB - its sign-extended fields are checked as such") {
  REQUIRE_MESSAGE(tools_present(), "mingw-w64 is needed: apt-get install gcc-mingw-w64-x86-64");
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-coff-high-{}", getpid());
  std::filesystem::create_directories(dir);
  auto object = write_object(test::emit_catalog("badsignal", Variant::Fixed, Model::Go2012));
  REQUIRE(object);
  const std::string path = (dir / "badsignal.obj").string();
  test::write_bytes(path, object->bytes);
  std::ofstream(dir / "main.c") << "int main(void) { return 0; }\n";
  const std::string out = test::output_of(fmt::format("x86_64-w64-mingw32-gcc -o {0}/main.exe {0}/main.c {1} 2>&1", dir.string(), path));
  CHECK(out.find("relocation truncated to fit: R_X86_64_32S against symbol `__imp_GetStdHandle'") != std::string::npos);
  CHECK(link_errors(path, Model::Go2012, dir).ends_with("linked\n"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace w64stub

namespace w64stub {
namespace {

namespace x86 = asmjit::x86;

// A random whole file for the object test: functions (global or static, some framed) that call, jump to and
// take the address of each other, call externals, load import slots, and read and write data (global or
// static) at offsets, some fields followed by an immediate (in the absolute model, some by a second
// symbol's address) - with the same file in GNU as's syntax.
struct RandomObject {
  std::vector<Program> programs;
  std::string gnu;
};

std::string mem(Model m, const std::string& symbol, int64_t offset) {
  const std::string at = offset ? fmt::format("{} + {}", symbol, offset) : symbol;
  return m == Model::Rip ? "[rip + " + at + "]" : "[" + at + "]";
}

RandomObject random_object(std::mt19937& rng, Model m, int file) {
  RandomObject r;
  const int count = 2 + static_cast<int>(rng() % 4), data_count = 1 + static_cast<int>(rng() % 3);
  auto bare = [](const std::string& s) { return s.ends_with("<>") ? s.substr(0, s.size() - 2) : s; };
  std::vector<std::string> functions, data;
  for (int f = 0; f < count; ++f) functions.push_back(fmt::format("r{}f{}{}", file, f, rng() % 3 == 0 ? "<>" : ""));
  for (int d = 0; d < data_count; ++d) data.push_back(fmt::format("r{}d{}{}", file, d, rng() % 2 ? "<>" : ""));
  const std::string import = fmt::format("r{}imp", file), external = fmt::format("r{}ext", file);
  std::string data_gnu = ".data\n";
  Program shared;  // every function declares the file's data and import, as the Plan 9 front end does
  for (const std::string& d : data) {
    std::vector<uint8_t> bytes(1 + rng() % 40);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    size_t align = 1;
    while (align < bytes.size() && align < 16) align *= 2;
    data_gnu += fmt::format(".balign {}, 0\n{}{}:\n  .byte {}\n", align, d.ends_with("<>") ? "" : ".globl " + bare(d) + "\n",
                            bare(d), fmt::join(bytes, ", "));
    shared.data.push_back(DataSymbol{d, std::move(bytes), 1, {}});
  }
  shared.imports.push_back(Import{import, "kernel32.dll", fmt::format("Func{}", file), "", {}});
  for (int f = 0; f < count; ++f) {
    Program p = shared;
    p.symbol = functions[static_cast<size_t>(f)];
    p.declared_frame = rng() % 2 ? 8 * static_cast<int32_t>(1 + rng() % 6) : 0;
    const std::string name = bare(p.symbol);
    const bool global = !p.symbol.ends_with("<>");
    r.gnu += fmt::format(".def {}; .scl {}; .type 32; .endef\n{}", name, global ? 2 : 3, global ? ".globl " + name + "\n" : "");
    if (p.declared_frame) r.gnu += fmt::format(".seh_proc {}\n{}:\n  sub rsp, {}\n  .seh_stackalloc {}\n  .seh_endprologue\n", name, name, p.declared_frame, p.declared_frame);
    else r.gnu += name + ":\n";
    auto use = [&p](const std::string& symbol) {
      if (std::find(p.externals.begin(), p.externals.end(), symbol) == p.externals.end()) p.externals.push_back(symbol);
    };
    for (int i = 0, items = 3 + static_cast<int>(rng() % 10); i < items; ++i) {
      const std::string other = functions[rng() % functions.size()], d = data[rng() % data.size()];
      const int64_t offset = static_cast<int64_t>(rng() % 8);
      const std::string d2 = data[rng() % data.size()];
      const int64_t offset2 = static_cast<int64_t>(rng() % 8);
      switch (rng() % 9) {
        case 0: p.instrs.push_back(Instr{x86::Inst::kIdCall, {SymbolAddr{other, 0}}}), use(other);
                r.gnu += "  call " + bare(other) + "\n"; break;
        case 1: p.instrs.push_back(Instr{x86::Inst::kIdJe, {SymbolAddr{other, 0}}}), use(other);
                r.gnu += "  je " + bare(other) + "\n"; break;
        case 2: p.instrs.push_back(Instr{x86::Inst::kIdLea, {asmjit::Operand(x86::rcx), SymbolMem{other, 0, 0}}}), use(other);
                r.gnu += "  lea rcx, " + mem(m, bare(other), 0) + "\n"; break;
        case 3: p.instrs.push_back(Instr{x86::Inst::kIdCall, {SymbolAddr{external, 0}}}), use(external);
                r.gnu += "  call " + external + "\n"; break;
        case 4: p.instrs.push_back(Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::rax), SymbolMem{import, 0, 8}}});
                r.gnu += fmt::format("  mov rax, qword ptr {}\n", mem(m, "__imp_Func" + std::to_string(file), 0)); break;
        case 5: p.instrs.push_back(Instr{x86::Inst::kIdLea, {asmjit::Operand(x86::rdx), SymbolMem{d, offset, 0}}});
                r.gnu += "  lea rdx, " + mem(m, bare(d), offset) + "\n"; break;
        case 6: p.instrs.push_back(Instr{x86::Inst::kIdMov, {SymbolMem{d, offset, 4}, asmjit::Operand(asmjit::Imm(0x1234))}});
                r.gnu += "  mov dword ptr " + mem(m, bare(d), offset) + ", 0x1234\n"; break;
        case 7: p.instrs.push_back(Instr{x86::Inst::kIdMov, {SymbolMem{d, offset, 1}, asmjit::Operand(asmjit::Imm(7))}});
                r.gnu += "  mov byte ptr " + mem(m, bare(d), offset) + ", 7\n"; break;
        default:  // two fields, two relocations: a data symbol's address stored into another (absolute models)
          if (m == Model::Rip) break;
          p.instrs.push_back(Instr{x86::Inst::kIdMov, {SymbolMem{d, offset, 8}, SymbolAddr{d2, offset2}}});
          r.gnu += fmt::format("  mov qword ptr {}, offset {} + {}\n", mem(m, bare(d), offset), bare(d2), offset2);
          break;
      }
    }
    p.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
    r.gnu += p.declared_frame ? fmt::format("  add rsp, {}\n  ret\n.seh_endproc\n", p.declared_frame) : "  ret\n";
    r.programs.push_back(std::move(p));
  }
  r.gnu += data_gnu + ".text\n";
  return r;
}

TEST_CASE("obj: 40 random files of calling, framed, static and global functions with data, imports and externals are GNU as's objects") {
  REQUIRE_MESSAGE(tools_present(), "llvm-readobj and mingw-w64 are needed: apt-get install llvm binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64");
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("w64stub-coff-random-{}", getpid());
  std::filesystem::create_directories(dir);
  std::mt19937 rng(20121128);
  for (Model m : {Model::Rip, Model::Go2012}) {
    for (int file = 0; file < 20; ++file) {
      CAPTURE(name(m));
      CAPTURE(file);
      RandomObject random = random_object(rng, m, file);
      CAPTURE(random.gnu);
      auto linked = link(random.programs);
      REQUIRE_MESSAGE(linked, linked.error().message);
      auto image = emit(*linked, {m, Policy::As});
      REQUIRE_MESSAGE(image, image.error().message);
      auto object = write_object(*image);
      REQUIRE_MESSAGE(object, object.error().message);
      CHECK(object->notes.empty());
      const std::string ours = (dir / "ours.obj").string(), reference = (dir / "gnu.obj").string();
      test::write_bytes(ours, object->bytes);
      std::ofstream(dir / "gnu.s") << ".intel_syntax noprefix\n.text\n" << random.gnu;
      REQUIRE(std::system(fmt::format("x86_64-w64-mingw32-as -o {} {}", reference, (dir / "gnu.s").string()).c_str()) == 0);
      check_same_object(reference, ours);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace w64stub
