#include "w64stub/plan9/asm.hpp"

#include "w64stub/core/frame.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "../testing/test_support.hpp"
#include "w64stub/core/disasm.hpp"
#include "w64stub/out/listing.hpp"

using namespace w64stub;
namespace fs = std::filesystem;

namespace {

const std::string kTestdata = std::string(W64STUB_REF_DIR) + "/..";

Program assemble_go(const std::string& file) {
  auto p = assemble_plan9_symbol(fmt::format("{}/go/{}", kTestdata, file), "");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  place_on_catalog_page(*p);  // the 2012 stubs' data page, as the catalog lays it out
  return std::move(*p);
}

// Assembles text given in memory; `files` may add headers.
Expected<std::vector<Program>> assemble_text(const std::string& text, std::map<std::string, std::string> files = {}) {
  files["t.s"] = text;
  Plan9Options options{{"inc"}, [files](const std::string& path) -> std::optional<std::string> {
                         auto it = files.find(path);
                         if (it == files.end()) return std::nullopt;
                         return it->second;
                       }};
  return assemble_plan9("t.s", options);
}

// The Intel text Zydis reads back from each instruction of the first TEXT symbol.
std::vector<std::string> disassemble(const std::string& text, std::map<std::string, std::string> files = {}) {
  auto programs = assemble_text(text, std::move(files));
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  auto image = emit(programs->front(), {});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  std::vector<std::string> out;
  for (const InstrInfo& i : image->instrs)
    out.push_back(decode_one({image->text.bytes.data() + i.offset, i.length}, image->text.address + i.offset)->text);
  return out;
}

}  // namespace

TEST_CASE("acceptance 1: the Plan 9 text of the stubs assembles to the catalog's bytes, every model and policy") {
  const std::pair<const char*, const char*> files[] = {
      {"badcallback.s", "badcallback"}, {"badcallback-prefix.s", "badcallback-prefix"}, {"badsignal.s", "badsignal"}};
  for (const auto& entry : files) {
    const char* file = entry.first;
    const char* stub = entry.second;
    const Program program = assemble_go(file);
    for (Model m : kModels)
      for (Policy p : kPolicies) {
        CAPTURE(file);
        CAPTURE(name(m));
        CAPTURE(name(p));
        auto from_text = emit(program, {m, p});
        auto from_catalog = emit(*catalog_program(stub, Variant::Faithful), {m, p});
        REQUIRE(from_text.ok() == from_catalog.ok());  // abs64 refuses the faithful text either way
        if (!from_text.ok()) continue;
        CHECK(from_text->text.bytes == from_catalog->text.bytes);
        CHECK(from_text->data.bytes == from_catalog->data.bytes);
        const std::string stem = reference_stem(stub, Variant::Faithful, m, p);
        CHECK(format_hex(from_text->text.bytes) == test::slurp(test::ref_path(stem)));
      }
  }
}

TEST_CASE("acceptance 2: pre- and post-fix badcallback, same bytes, declared 48 vs 0, explicit 0 vs 48, depth 56") {
  const Program post = assemble_go("badcallback.s"), pre = assemble_go("badcallback-prefix.s");
  auto post_image = emit(post, {}), pre_image = emit(pre, {});
  REQUIRE(post_image.ok());
  REQUIRE(pre_image.ok());
  CHECK(post_image->text.bytes == pre_image->text.bytes);
  const Frame pre_frame = analyze_frame(*pre_image), post_frame = analyze_frame(*post_image);
  CHECK(pre_frame.declared == 48);
  CHECK(post_frame.declared == 0);
  CHECK(pre_frame.explicit_adjust == 0);
  CHECK(post_frame.explicit_adjust == 48);
  CHECK(pre_frame.max_depth() == 56);
  CHECK(post_frame.max_depth() == 56);
  CHECK(post.source_line(post.instrs[0].loc.line) == "\tSUBQ\t$48, SP");
}

TEST_CASE("constructs: SIB, GS-relative TLS, FP arguments, N(PC), REP prefixes, macros and includes") {
  const auto text = disassemble(
      "#include \"tls.h\"\n"
      "TEXT t(SB),7,$16-8\n"
      "\tget_tls(CX)\n"
      "\tMOVQ\t-8(CX)(AX*8), AX\n"
      "\tMOVL\targ+0(FP), BX\n"
      "\tPUSHQ\tBP\n"
      "\tMOVL\targ+0(FP), BX\n"
      "\tPOPQ\tBP\n"
      "\tCMPQ\tAX, $0\n"
      "\tJNE\t2(PC)\n"
      "\tINT\t$3\n"
      "\tCLD\n"
      "\tREP; MOVSQ\n"
      "\tSHLQ\t$3, DX\n"
      "\tSHRL\tCX, DX\n"
      "\tMOVBQZX\t(SI), AX\n"
      "\tTESTL\t$6, 4(CX)\n"
      "\tMOVQ\tX0, AX\n"
      "\tRET\n",
      {{"inc/tls.h", "#define get_tls(r) MOVQ 0x28(GS), r\n"}});
  CHECK(text == std::vector<std::string>{
                    "sub rsp, 0x10",                   // the $16 frame
                    "mov rcx, gs:[0x0000000000000028]",
                    "mov rax, [rcx+rax*8-0x08]",
                    "mov ebx, [rsp+0x18]",             // arg+0(FP): frame 16 + return address 8
                    "push rbp",
                    "mov ebx, [rsp+0x20]",             // 8 more below after the push, as 6l counts
                    "pop rbp",
                    "cmp rax, 0x00",
                    "jnz 0x0000000000402024",          // 2(PC): over the INT to the CLD
                    "int 0x03",                        // cd 03, as Go writes INT $3
                    "cld",
                    "rep movsq",
                    "shl rdx, 0x03",
                    "shr edx, cl",
                    "movzx rax, byte ptr [rsi]",
                    "test dword ptr [rcx+0x04], 0x06",
                    "movq rax, xmm0",
                    "add rsp, 0x10",                   // before each RET
                    "ret",
                });
}

TEST_CASE("instructions written in an included file keep their own location, not the main file's text") {
  auto programs = assemble_text("#include \"body.h\"\nTEXT t(SB),7,$0\n\tBODY\n#include \"nop.h\"\n\tRET\n",
                                {{"inc/body.h", "#define BODY NOP\n"}, {"inc/nop.h", "\tNOP\n"}});
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  const Program& p = programs->front();
  CHECK(p.instrs[0].loc.str() == "t.s:3:2");  // a macro's instruction stands where it is used
  CHECK(p.source_text(p.instrs[0].loc) == "\tBODY");
  CHECK(p.instrs[1].loc.str() == "inc/nop.h:1:2");
  CHECK(p.source_text(p.instrs[1].loc).empty());  // not line 1 of t.s
  auto image = emit(p, {});
  REQUIRE(image.ok());
  CHECK(image->source_line(image->instrs[1]).empty());
}

TEST_CASE("TEXT and GLOBL flags: numbers or Go's names - $frame-argsize") {
  auto programs = assemble_text("TEXT a(SB),NOSPLIT|NOFRAME,$0-16\n\tMOVQ\tx(SB), AX\n\tRET\n"
                                "TEXT b(SB),4,$8\n\tRET\n"
                                "GLOBL x(SB), RODATA|NOPTR, $8\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  CHECK((*programs)[0].declared_frame == 0);
  CHECK((*programs)[1].declared_frame == 8);
  CHECK((*programs)[0].data.size() == 1);
  auto bad = assemble_text("TEXT a(SB),NOSPLIT|NOPE,$0\n\tRET\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "t.s:1:20: undefined: NOPE (not a macro or constant)");
  // Without NOSPLIT Go's linker adds a stack-split prologue w64stub does not emulate: refused, not dropped.
  auto split = assemble_text("TEXT c(SB),$8\n\tRET\n");
  REQUIRE_FALSE(split.ok());
  CHECK(split.error().message.starts_with("t.s:1:1: TEXT c is not NOSPLIT: Go's linker would add a stack-split prologue"));
}

TEST_CASE("labels, jumps relaxed to rel8 like GNU as, and several TEXT symbols with their own data") {
  auto programs = assemble_text(
      "#pragma dynimport k·Sleep Sleep \"kernel32.dll\"\n"
      "TEXT a(SB),7,$0\n"
      "loop:\tDECQ\tCX\n"
      "\tJNE\tloop\n"
      "\tJMP\tdone\n"
      "\tNOP\n"
      "done:\tRET\n"
      "TEXT b(SB),7,$40\n"
      "\tMOVQ\tcounter(SB), CX\n"
      "\tMOVQ\tk·Sleep(SB), AX\n"
      "\tCALL\tAX\n"
      "\tRET\n"
      "DATA\tcounter+0(SB)/8, $1000\n"
      "GLOBL\tcounter(SB), $8\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  REQUIRE(programs->size() == 2);
  auto a = emit((*programs)[0], {});
  REQUIRE(a.ok());
  CHECK(format_hex(a->text.bytes).find("eb 01") != std::string::npos);  // jmp done: short, over one NOP
  const Program& b = (*programs)[1];
  REQUIRE(b.imports.size() == 1);
  CHECK(b.imports[0].function == "Sleep");
  REQUIRE(b.data.size() == 1);
  CHECK(b.data[0].bytes == std::vector<uint8_t>{0xe8, 0x03, 0, 0, 0, 0, 0, 0});
  CHECK((*programs)[0].imports.empty());  // a names neither
}

TEST_CASE("an import, GLOBL and constant named by two TEXT symbols: each Program gets them whole (the last by moving)") {
  auto programs = assemble_text(
      "#pragma dynimport k·Sleep Sleep \"kernel32.dll\"\n"
      "TEXT a(SB),7,$0\n"
      "\tMOVQ\tk·Sleep(SB), AX\n"
      "\tMOVQ\tcounter(SB), CX\n"
      "\tMOVSD\t$0.5, X0\n"
      "\tRET\n"
      "TEXT b(SB),7,$0\n"
      "\tMOVQ\tcounter(SB), CX\n"
      "\tMOVSD\t$0.5, X1\n"
      "\tMOVQ\tk·Sleep(SB), AX\n"
      "\tRET\n"
      "DATA\tcounter+0(SB)/8, $1000\n"
      "GLOBL\tcounter(SB), $8\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  REQUIRE(programs->size() == 2);
  for (const Program& p : *programs) {
    CAPTURE(p.symbol);
    REQUIRE(p.imports.size() == 1);
    CHECK(p.imports[0].symbol == "k·Sleep");
    CHECK(p.imports[0].function == "Sleep");
    CHECK(p.imports[0].dll == "kernel32.dll");
    REQUIRE(p.data.size() == 2);
    const DataSymbol* counter = p.find_data("counter");
    REQUIRE(counter);
    CHECK(counter->bytes == std::vector<uint8_t>{0xe8, 0x03, 0, 0, 0, 0, 0, 0});
    const DataSymbol* half = p.find_data("$f64.3fe0000000000000");
    REQUIRE(half);
    CHECK(half->bytes == std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0xe0, 0x3f});
    CHECK(emit(p, {}).ok());
  }
}

TEST_CASE("acceptance 4: every file in testdata/bad fails with the error its first line wants") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(kTestdata + "/bad")) {
    if (entry.path().extension() != ".s") continue;
    const std::string path = entry.path().string();
    const std::string first = test::slurp(path).substr(0, test::slurp(path).find('\n'));
    REQUIRE_MESSAGE(first.starts_with("// want: "), path);
    std::string want = first.substr(9);
    // The files name themselves in some messages; the test reads them by a longer path.
    const std::string name = entry.path().filename().string();
    for (size_t at = want.find(name); at != std::string::npos; at = want.find(name, at + path.size()))
      want.replace(at, name.size(), path);
    CAPTURE(path);
    auto programs = assemble_plan9(path);
    Expected<Image> image = Error{""};
    if (programs) image = emit(programs->front(), {});  // a few errors only show when emitting
    const std::string got = !programs ? programs.error().message : image ? "" : image.error().message;
    const bool located = !want.empty() && std::isdigit(static_cast<unsigned char>(want[0]));
    CHECK(got == path + (located ? ":" : ": ") + want);
    ++count;
  }
  CHECK(count >= 40);
}

TEST_CASE("acceptance 3: a whole Go file, thirteen TEXT symbols, each equal to GNU as on its Intel translation") {
  auto programs = assemble_plan9(kTestdata + "/go/sys_windows_amd64.s", {{kTestdata + "/go/include"}, {}});
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  CHECK(programs->size() == 13);
  for (const Program& p : *programs) {
    const std::string name = short_symbol_name(p.symbol);
    CAPTURE(name);
    // The translations place the file's own data at 0x4010a0, past the 2012 stubs' data page.
    auto image = emit(p, {.addresses = {*parse_address_override("data=0x4010a0")}});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    const std::string ref = fmt::format("{}/plan9/sys_windows_amd64.{}.hex", W64STUB_REF_DIR, name);
    REQUIRE_MESSAGE(fs::exists(ref), ref);
    CHECK(format_hex(image->text.bytes) == test::slurp(ref));
  }
}

TEST_CASE("frame facts of the whole file: branches followed, stack switches noted") {
  auto programs = assemble_plan9(kTestdata + "/go/sys_windows_amd64.s", {{kTestdata + "/go/include"}, {}});
  REQUIRE(programs.ok());
  std::map<std::string, Frame> frames;
  for (const Program& p : *programs) frames[short_symbol_name(p.symbol)] = analyze_frame(*emit(p, {}));
  CHECK(frames["sigtramp"].notes.empty());  // JNZ sigdone and the SUBQ $56 path meet at depth 0
  CHECK(frames["sigtramp"].balanced);
  CHECK(frames["sigtramp"].explicit_adjust == 56);
  CHECK(frames["usleep2"].declared == 8);
  REQUIRE(frames["usleep2"].calls.size() == 1);
  CHECK(frames["usleep2"].calls[0].residue == 0);  // entered at 8, 8 more below: aligned
  // N(PC) branches reach two CALLs; the third runs after LEAQ -8(R14), SP switched stacks.
  CHECK(frames["usleep1"].calls.size() == 2);
  REQUIRE_FALSE(frames["usleep1"].notes.empty());
  CHECK(frames["usleep1"].notes[0].find("RSP written by an instruction the analysis does not follow") != std::string::npos);
  CHECK(frames["asmstdcall"].balanced);
  CHECK(frames["asmstdcall"].notes.empty());
}

TEST_CASE("every mnemonic family, one instruction a line: the bytes Go's own assembler gives (testdata/plan9enc)") {
  const std::string dir = std::string(W64STUB_REF_DIR) + "/../plan9enc";
  auto program = assemble_plan9_symbol(dir + "/enc.s", "");
  REQUIRE_MESSAGE(program.ok(), program.error().message);
  auto image = emit(*program, {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  std::map<int, std::string> ours;  // source line -> its bytes, as hex
  for (const InstrInfo& i : image->instrs)
    for (uint32_t k = 0; k < i.length; ++k)
      ours[i.loc.line] += fmt::format("{}{:02x}", ours[i.loc.line].empty() ? "" : " ", image->text.bytes[i.offset + k]);
  std::ifstream expected(dir + "/enc.expected");
  int lines = 0;
  for (std::string line; std::getline(expected, line);) {
    if (line.starts_with("#")) continue;
    const int number = std::stoi(line);
    const std::string bytes = line.substr(line.find(' ') + 1);
    const std::string text(program->source_line(number));
    CAPTURE(text);
    CHECK(ours[number] == bytes);
    ++lines;
  }
  CHECK(lines > 120);
}

TEST_CASE("no silent wrong code: an immediate that does not fit is refused, never truncated") {
  const auto body = [](const std::string& line) { return "TEXT ·f(SB),7,$0\n\t" + line + "\n\tRET\n"; };
  for (const char* refused : {"ADDL $0x1ffffffff, AX", "ADDQ $0x80000000, AX", "ADDB $256, AL", "MOVW $0x10000, AX",
                              "CMPL AX, $-0x80000001", "SHLQ $256, AX", "ADDB $-129, AL", "MOVW $-32769, AX"}) {
    CAPTURE(refused);
    auto p = assemble_text(body(refused));
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message.find("does not fit") != std::string::npos);
  }
  auto far = assemble_text(body("MOVQ 0x100000000(AX), BX"));  // a displacement holds 32 bits
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message.find("the offset does not fit in 32 bits") != std::string::npos);
  auto pair = assemble_text(body("MOVQ DX:AX, BX"));  // a register pair where it means nothing: never just DX
  REQUIRE_FALSE(pair.ok());
  CHECK(pair.error().message.find("a register pair is an operand of SHLQ/SHRQ only") != std::string::npos);
  for (const char* kept : {"MOVL $0xffffffff, AX", "MOVQ $0x123456789abcdef0, AX", "MOVW $-1, AX", "ADDB $255, AL",
                           "ADDQ $-0x80000000, AX", "ANDL $0x80000000, CX", "ADDB $-128, AL"}) {
    CAPTURE(kept);
    auto p = assemble_text(body(kept));
    CHECK_MESSAGE(p.ok(), p.error().message);
  }
}

TEST_CASE("errors like an assembler: each ends its TEXT symbol, up to 10 a file, with the line and a caret") {
  std::string text = "TEXT ·good(SB),7,$0\n\tRET\n";
  for (int i = 0; i < 12; ++i) text += fmt::format("TEXT ·bad{}(SB),7,$0\n\tBOGUS AX\n\tRET\n", i);
  Plan9Options options{{}, [text](const std::string&) -> std::optional<std::string> { return text; }};
  auto file = assemble_plan9_file("t.s", options);
  REQUIRE(file.ok());
  CHECK(file->programs.size() == 1);
  CHECK(file->programs[0].symbol == "·good");
  CHECK(file->errors.size() == 10);
  CHECK(file->stopped);
  CHECK(file->errors[0].symbol == "·bad0");
  const std::string report = file->report();
  CHECK(report.starts_with("t.s:4:2: error: unknown instruction 'BOGUS'\n\tBOGUS AX\n\t^\n"));
  CHECK(report.ends_with("t.s: too many errors\nassembly of t.s failed"));
  auto whole = assemble_plan9("t.s", options);
  REQUIRE_FALSE(whole.ok());
  CHECK(whole.error().message == report);
}

TEST_CASE("an error found when a TEXT symbol ends is that symbol's, and the next TEXT assembles") {
  const std::string text = "TEXT ·a(SB),7,$0\n\tRET\n\tREP\nTEXT ·b(SB),7,$0\n\tJMP 5(PC)\n\tRET\nTEXT ·c(SB),7,$0\n\tRET\n";
  Plan9Options options{{}, [text](const std::string&) -> std::optional<std::string> { return text; }};
  auto file = assemble_plan9_file("t.s", options);
  REQUIRE(file.ok());
  REQUIRE(file->errors.size() == 2);
  CHECK(file->errors[0].symbol == "·a");
  CHECK(file->errors[0].error.message == "t.s:3:2: a prefix with no instruction after it");
  CHECK(file->errors[1].symbol == "·b");
  CHECK(file->errors[1].error.message == "t.s:5:6: 5(PC) leads outside TEXT ·b");
  REQUIRE(file->programs.size() == 1);
  CHECK(file->programs[0].symbol == "·c");
}

TEST_CASE("whole files: CALL/JMP to another symbol and data defined elsewhere are externals, placed by relocations") {
  auto programs = assemble_text(
      "TEXT ·a(SB),7,$0\n\tCALL ·b(SB)\n\tJMP other·c(SB)\n"
      "TEXT ·b(SB),7,$0\n\tMOVQ elsewhere(SB), AX\n\tMOVQ $·a(SB), CX\n\tJEQ ·a(SB)\n\tRET\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  REQUIRE(programs->size() == 2);
  CHECK((*programs)[0].externals == std::vector<std::string>{"other·c", "·b"});
  CHECK((*programs)[1].externals == std::vector<std::string>{"elsewhere", "·a"});
  // Both hold the file's lines, once: shared, not copied.
  CHECK((*programs)[0].source_lines.same((*programs)[1].source_lines));
  CHECK((*programs)[1].source_lines.size() == 8);
  CHECK((*programs)[0].source_line(2) == "\tCALL ·b(SB)");
  CHECK((*programs)[1].source_line(5) == "\tMOVQ elsewhere(SB), AX");
  for (Model model : {Model::Rip, Model::Go2012}) {
    CAPTURE(name(model));
    auto a = emit((*programs)[0], {.model = model});
    REQUIRE_MESSAGE(a.ok(), a.error().message);
    // call rel32 and jmp rel32 (never rel8: the target is not here), each field a Rel32 relocation.
    CHECK(a->text.bytes[0] == 0xe8);
    CHECK(a->text.bytes[5] == 0xe9);
    REQUIRE(a->relocations.size() == 2);
    CHECK(a->relocations[0].offset == 1);
    CHECK(a->relocations[0].kind == RelocKind::Rel32);
    CHECK(a->relocations[0].symbol == "·b");
    CHECK(a->relocations[1].offset == 6);
    CHECK(a->relocations[1].symbol == "other·c");
    CHECK(a->find_symbol("·b")->kind == SymbolKind::External);
    auto b = emit((*programs)[1], {.model = model});
    REQUIRE_MESSAGE(b.ok(), b.error().message);
    CHECK(b->relocations.size() == 3);
  }
}

TEST_CASE("-D NAME[=VALUE] defines an object-like macro, as go tool asm's -D - devices and FIFOs are refused") {
  const std::string text = "TEXT ·f(SB),7,$0\n#ifdef TRACE\n\tINT $3\n#endif\n\tMOVL $VALUE, AX\n\tRET\n";
  Plan9Options options{{}, [text](const std::string&) -> std::optional<std::string> { return text; }, {"TRACE", "VALUE=7"}};
  auto p = assemble_plan9("t.s", options);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  REQUIRE((*p)[0].instrs.size() == 3);  // INT, MOVL, RET
  CHECK(std::get<asmjit::Operand>((*p)[0].instrs[1].operands[1]).as<asmjit::Imm>().value() == 7);
  options.defines = {"VALUE=1+"};
  auto bad = assemble_plan9("t.s", options);
  REQUIRE_FALSE(bad.ok());
  options.defines = {"9x=1"};
  CHECK(assemble_plan9("t.s", options).error().message == "-D 9x=1: expected NAME or NAME=VALUE");
  auto device = assemble_plan9("/dev/zero");
  REQUIRE_FALSE(device.ok());
  CHECK(device.error().message == "/dev/zero is not a regular file (a directory, device or FIFO): refused");
}

TEST_CASE("no silent wrong code: a symbol offset beyond 32 bits and N(PC) near 2^63 are refused") {
  auto far = assemble_text("TEXT ·f(SB),7,$0\n\tMOVQ x+0x100000000(SB), AX\n\tRET\nGLOBL x(SB), $8\n");
  REQUIRE_MESSAGE(far.ok(), far.error().message);
  for (Model model : {Model::Rip, Model::Go2012}) {
    auto image = emit((*far)[0], {.model = model});
    REQUIRE_FALSE(image.ok());
    CHECK(image.error().message.find("the offset 0x100000000 from a symbol does not fit in 32 bits") != std::string::npos);
  }
  auto pc = assemble_text("TEXT ·f(SB),7,$0\n\tJMP 0x7fffffffffffffff(PC)\n\tRET\n");
  REQUIRE_FALSE(pc.ok());
  CHECK(pc.error().message.find("N(PC) lies outside any TEXT symbol") != std::string::npos);
}

TEST_CASE("Go 1.19's forms: ABI selectors name the symbol itself, FUNCDATA/PCDATA emit nothing, #define bodies keep their lines") {
  auto programs = assemble_text("TEXT ·f<ABIInternal>(SB),7,$0\n\tFUNCDATA\t$0, ·f(SB)\n\tPCDATA\t$0, $-1\n"
                                "\tCALL\t·g<ABI0>(SB)\n\tRET\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  CHECK(programs->front().symbol == "·f");
  CHECK(programs->front().externals == std::vector<std::string>{"·g"});
  CHECK(programs->front().instrs.size() == 2);  // CALL and RET
  // Go's lexer keeps a #define's line breaks: each line of the body is a statement.
  CHECK(disassemble("#define SAVE() \\\n\tPUSHQ\tAX \\\n\tADJSP\t$8 \\\n\tADJSP\t$-8 \\\n\tPOPQ\tAX\n"
                    "TEXT ·f(SB),7,$0\n\tSAVE()\n\tRET\n") ==
        std::vector<std::string>{"push rax", "sub rsp, 0x08", "add rsp, 0x08", "pop rax", "ret"});
  auto outside = assemble_text("FUNCDATA\t$0, $0\nTEXT ·f(SB),7,$0\n\tRET\n");
  REQUIRE_FALSE(outside.ok());
  CHECK(outside.error().message.find("t.s:1:1: FUNCDATA outside a TEXT symbol") != std::string::npos);
  auto adjsp = assemble_text("TEXT ·f(SB),7,$0\n\tADJSP\tAX\n\tRET\n");
  REQUIRE_FALSE(adjsp.ok());
  CHECK(adjsp.error().message.find("ADJSP takes one $constant") != std::string::npos);
}

// A TEXT's room is guessed from the lines after it, up to the next line that starts with TEXT: TEXTs a
// macro makes have no such line, and each read the rest of the file (40,000 of them took 6 s; 0.45 s now).
TEST_CASE("TEXTs a macro makes, one a line: the file's lines are read once for their room, none kept") {
  std::string text = "#define T(n) TEXT n(SB),7,$0; MOVQ AX, BX; RET\n";
  for (int k = 0; k < 40'000; ++k) text += fmt::format("T(f{})\n", k);
  auto programs = assemble_text(text);
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  REQUIRE(programs->size() == 40'000);
  CHECK(programs->back().symbol == "f39999");
  size_t room = 0;
  for (const Program& p : *programs) room = std::max(room, p.instrs.capacity());
  CHECK(room <= 2 * 2 + 16);  // the first guessed 40,000 (every line after it)
}

// Each GLOBL, DATA and #pragma is found by name, and a DATA's overlap check looks at two neighbours: a file of
// tens of thousands costs in proportion (checking against every earlier one took seconds at 40,000 GLOBLs, and
// grew with the square of a GLOBL's DATAs).
TEST_CASE("many GLOBLs, DATAs and imports: each found by name, the data where the DATAs put it") {
  std::string text = "TEXT t(SB),7,$0\n\tMOVQ d9999(SB), AX\n\tMOVQ big+262136(SB), BX\n\tMOVQ i4999(SB), CX\n\tRET\n";
  for (int k = 0; k < 10000; ++k) text += fmt::format("DATA d{}+0(SB)/8, ${}\nGLOBL d{}(SB), $8\n", k, k, k);
  for (int k = 32767; k >= 0; --k) text += fmt::format("DATA big+{}(SB)/8, ${}\n", 8 * k, k);  // last first
  text += "GLOBL big(SB), $262144\n";
  for (int k = 0; k < 5000; ++k) text += fmt::format("#pragma dynimport i{} F{} \"k.dll\"\n", k, k);
  auto programs = assemble_text(text);
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  const Program& p = programs->front();
  REQUIRE(p.data.size() == 2);
  CHECK(p.data[0].symbol == "d9999");
  CHECK(p.data[0].bytes == std::vector<uint8_t>{0x0f, 0x27, 0, 0, 0, 0, 0, 0});  // 9999
  CHECK(p.data[1].symbol == "big");
  REQUIRE(p.data[1].bytes.size() == 262144);
  CHECK(p.data[1].bytes[8 * 32767] == 0xff);  // 32767 = 0x7fff
  CHECK(p.data[1].bytes[8 * 32767 + 1] == 0x7f);
  CHECK(p.data[1].bytes[8 * 32767 + 2] == 0);
  REQUIRE(p.imports.size() == 1);
  CHECK(p.imports[0].function == "F4999");
  auto overlap = assemble_text(text + "DATA big+4(SB)/8, $1\n");
  REQUIRE_FALSE(overlap.ok());
  CHECK(overlap.error().message.find("DATA big+4 overlaps an earlier DATA") != std::string::npos);
}

// Overlaps are judged in file order against the DATAs taken before: a refused one is not written, so a later
// one that meets only it is taken. Two GLOBLs written at the same offsets do not meet.
TEST_CASE("DATA overlaps: in file order, against the DATAs taken, each GLOBL on its own") {
  const std::string text =
      "TEXT t(SB),7,$0\n\tMOVQ a(SB), AX\n\tMOVQ b(SB), BX\n\tRET\n"
      "GLOBL a(SB), $16\nGLOBL b(SB), $16\n"
      "DATA a+0(SB)/8, $1\nDATA b+0(SB)/8, $2\nDATA a+4(SB)/8, $3\nDATA a+8(SB)/8, $4\nDATA b+8(SB)/8, $5\n"
      "DATA b+8(SB)/1, $6\n";
  Plan9Options options{{}, [text](const std::string&) -> std::optional<std::string> { return text; }};
  auto file = assemble_plan9_file("t.s", options);
  REQUIRE(file.ok());
  REQUIRE(file->errors.size() == 2);
  CHECK(file->errors[0].error.message == "t.s:9:1: DATA a+4 overlaps an earlier DATA");
  CHECK(file->errors[1].error.message == "t.s:12:1: DATA b+8 overlaps an earlier DATA");
  REQUIRE(file->programs.size() == 1);
  const Program& p = file->programs.front();
  REQUIRE(p.data.size() == 2);
  CHECK(p.data[0].bytes == std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0});
  CHECK(p.data[1].bytes == std::vector<uint8_t>{2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0});
}

// Statements are streamed, so a file's own tokens are bounded by its size alone (64 MiB); what its macros
// make, 2^20 in all. 600 lines of 2,006 tokens: 1.2 million.
TEST_CASE("a file of more than 2^20 tokens assembles - macros that make more than 2^20 are refused") {
  std::string line = "\tMOVQ $0";
  for (int k = 0; k < 1000; ++k) line += "+1";
  std::string text = "TEXT t(SB),7,$0\n";
  for (int k = 0; k < 600; ++k) text += line + ", AX\n";
  auto programs = assemble_text(text + "\tRET\n");
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  REQUIRE(programs->front().instrs.size() == 601);
  CHECK(std::get<asmjit::Operand>(programs->front().instrs[599].operands[1]).as<asmjit::Imm>().value() == 1000);

  // 20 lines of #define double "a" up to 2^19 tokens; used twice, that is 2^20 exactly, and the file's own
  // tokens do not count: one more from a macro passes it, where that macro is used.
  std::string bomb = "#define X0 a\n";
  for (int k = 1; k < 20; ++k) bomb += fmt::format("#define X{} X{} X{}\n", k, k - 1, k - 1);
  auto refused = assemble_text(bomb + "X19\nX19\n\tMOVQ AX, BX\n\tMOVQ AX, X0\n");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "t.s:24:11: macro expansion produces too many tokens");
}

// A line is lexed whole before anything checks it: past 1 MiB (its continuations with it) it is refused,
// not held as a token a byte. A line of exactly 1 MiB is not.
TEST_CASE("a line longer than 1 MiB, or continued past it, is refused at the line that passes it") {
  const size_t limit = size_t{1} << 20;
  auto sum = [](size_t bytes) {  // $0+1+1...: bytes long, a token a byte
    std::string s = "$0";
    while (s.size() + 2 <= bytes) s += "+1";
    return s;
  };
  const std::string head = "TEXT t(SB),7,$0\n\tMOVQ ";
  const std::string operand = sum(limit - std::string("\tMOVQ , AX").size());
  auto fits = assemble_text(head + operand + ", AX\n\tRET\n");
  REQUIRE_MESSAGE(fits.ok(), fits.error().message);
  CHECK(std::get<asmjit::Operand>(fits->front().instrs[0].operands[1]).as<asmjit::Imm>().value() == (operand.size() - 2) / 2);

  auto one = assemble_text(head + operand + "+1, AX\n\tRET\n");
  REQUIRE_FALSE(one.ok());
  CHECK(one.error().message == "t.s:2:1: a line longer than 1 MiB (with its continuations): refused");

  // Three physical lines of 400,000 bytes, joined: the third passes the limit.
  const std::string part = sum(400000);
  auto joined = assemble_text(head + part + "\\\n+" + part + "\\\n+" + part + ", AX\n\tRET\n");
  REQUIRE_FALSE(joined.ok());
  CHECK(joined.error().message == "t.s:4:1: a line longer than 1 MiB (with its continuations): refused");

  // In an #ifdef not taken the line is skipped, as every line there is.
  auto skipped = assemble_text("#ifdef NONE\n" + operand + "+1+1\n#endif\n" + head.substr(0, 16) + "\tRET\n");
  REQUIRE_MESSAGE(skipped.ok(), skipped.error().message);
}

// N(PC) targets become labels in one merge (an insertion each moved the rest of the body: 20,000 took 4 s).
TEST_CASE("20,000 N(PC) branches: each target's label stands right before the instruction it names") {
  std::string text = "TEXT t(SB),7,$0\n";
  for (int k = 0; k < 20000; ++k) text += "\tJEQ 2(PC)\n\tADDQ $1, AX\n";
  text += "\tRET\n";
  auto programs = assemble_text(text);
  REQUIRE_MESSAGE(programs.ok(), programs.error().message);
  const std::vector<Instr>& instrs = programs->front().instrs;
  REQUIRE(instrs.size() == 3 * 20000 + 1);  // JEQ, ADDQ, the label of the next JEQ (the last one's: the RET's)
  bool all = true;
  for (size_t k = 0; k < 20000 && all; ++k) {
    const Instr& jeq = instrs[3 * k];
    const CodeLabel* target = std::get_if<CodeLabel>(&jeq.operands.at(0));
    const CodeLabel* bound = instrs[3 * k + 2].bound_label();
    all = target && bound && target->name == fmt::format(".pc{}", 2 * k + 2) && bound->name == target->name &&
          instrs[3 * k + 1].id == asmjit::x86::Inst::kIdAdd;
  }
  CHECK(all);
  CHECK(instrs.back().id == asmjit::x86::Inst::kIdRet);
  CHECK(emit(programs->front(), {}).ok());
}

TEST_CASE("a file of many symbols and no --symbol: the message names the first 20 and counts the rest") {
  std::vector<Program> programs(3);
  for (size_t k = 0; k < programs.size(); ++k) programs[k].symbol = fmt::format("·f{}", k);
  CHECK(choose_symbol_name(programs, "t.s", "").error().message == "t.s has 3 TEXT symbols; choose one with --symbol (·f0, ·f1, ·f2)");
  programs.resize(1000);
  for (size_t k = 0; k < programs.size(); ++k) programs[k].symbol = fmt::format("·f{}", k);
  const std::string message = choose_symbol_name(programs, "t.s", "").error().message;
  CHECK(message.starts_with("t.s has 1000 TEXT symbols; choose one with --symbol (·f0, ·f1, "));
  CHECK(message.ends_with(", ·f19, and 980 more)"));
  CHECK(*choose_symbol_name(programs, "t.s", "f999") == "·f999");
}
