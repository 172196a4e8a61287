#include "lex_p.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <random>
#include <regex>
#include <set>

using namespace w64stub;
using namespace w64stub::plan9;

namespace {

// Sources in memory: path -> text.
Expected<Preprocessed> run(std::map<std::string, std::string> files, std::vector<std::string> include_dirs = {}) {
  LexOptions options{std::move(include_dirs), [files](const std::string& path) -> std::optional<std::string> {
                       auto it = files.find(path);
                       if (it == files.end()) return std::nullopt;
                       return it->second;
                     }};
  return preprocess("main.s", options);
}

std::vector<std::string> spelled(const Preprocessed& p) {
  std::vector<std::string> out;
  for (const Statement& s : p.statements)
    out.push_back((s.kind == Statement::Label ? "label " : s.kind == Statement::Pragma ? "pragma " : "") + spell(s.tokens));
  return out;
}

}  // namespace

TEST_CASE("statements: semicolons separate, labels stand alone, comments vanish, columns stay") {
  auto p = run({{"main.s", "loop: MOVQ AX, BX; /* one\ntwo */ ADDQ $1, AX // done\n\tREP; MOVSQ\n"}});
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(spelled(*p) == std::vector<std::string>{"label loop", "MOVQ AX, BX", "ADDQ $1, AX", "REP", "MOVSQ"});
  CHECK(p->statements[2].loc.str() == "main.s:2:8");  // after the two-line comment, on its second line
  CHECK(p->main_lines.size() == 3);
}

TEST_CASE("statements are handed on line by line: a file's tokens are never all held at once") {
  // 10,000 lines, two through an #include and one a macro: every statement comes with its tokens in the
  // one buffer the preprocessor reuses, each in turn, in file order.
  std::string text = "#define R(x) x\n";
  for (int k = 0; k < 10'000; ++k)
    text += k == 5'000 ? "#include \"inc.s\"\n" : k % 7 == 0 ? fmt::format("\tMOVQ $R({}), AX\n", k) : fmt::format("\tMOVQ ${}, AX\n", k);
  LexOptions options{{}, [&](const std::string& path) -> std::optional<std::string> {
                       if (path == "main.s") return text;
                       if (path == "inc.s") return std::string("\tADDQ $1, AX; ADDQ $2, AX\n");
                       return std::nullopt;
                     }};
  struct Watch final : StatementSink {
    std::vector<std::string> seen;
    std::set<const Token*> buffers;
    void take(const Statement& s) override {
      seen.push_back(spell(s.tokens));
      buffers.insert(s.tokens.data() - s.first);
    }
  } watch;
  SourceStore store;
  REQUIRE(preprocess("main.s", options, store, watch).ok());
  REQUIRE(watch.seen.size() == 10'001);
  CHECK(watch.seen[4'999] == "MOVQ $4999, AX");
  CHECK(watch.seen[5'000] == "ADDQ $1, AX");
  CHECK(watch.seen[5'001] == "ADDQ $2, AX");
  CHECK(watch.seen[5'002] == "MOVQ $5001, AX");
  CHECK(watch.seen[5'002 + 6] == "MOVQ $5007, AX");  // through the macro
  CHECK(watch.buffers.size() == 1);
}

TEST_CASE("tokens: identifiers with · and <>, numbers in three bases, strings and characters") {
  auto p = run({{"main.s", "MOVQ runtime·x<>+0x10(SB), AX; MOVL $017, $'A', $\"a\\n\\x41\\101\"\n"}});
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  const auto& t = p->statements[0].tokens;
  CHECK(t[1].text == "runtime·x<>");
  CHECK(t[3].value == 16);
  const auto& u = p->statements[1].tokens;
  CHECK(u[2].value == 15);
  CHECK(u[5].value == 'A');
  CHECK(u[8].kind == TokenKind::String);
  CHECK(u[8].text == "a\nAA");

  // \377 is the largest octal escape: \400 would be 256, no byte - refused, in strings and characters.
  CHECK(run({{"main.s", "DATA x+0(SB)/1, $\"\\377\"\n"}})->statements[0].tokens[11].text == "\xff");
  CHECK(run({{"main.s", "DATA x+0(SB)/1, $\"\\400\"\n"}}).error().message == "main.s:1:18: octal escape above \\377");
  CHECK(run({{"main.s", "MOVL $'\\777', AX\n"}}).error().message == "main.s:1:7: octal escape above \\377");
}

TEST_CASE("macros: object-like, function-like, multi-line, nested, at the use site's location") {
  auto p = run({{"main.s",
                 "#define N 8\n"
                 "#define get_tls(r) MOVQ 0x28(GS), r\n"
                 "#define SAVE(a, b) \\\n"
                 "\tPUSHQ a; \\\n"
                 "\tPUSHQ b\n"
                 "#define TWICE(x) SAVE(x, x)\n"
                 "\tget_tls(CX)\n"
                 "\tTWICE(BX)\n"
                 "\tSUBQ $(N*2), SP\n"
                 "#define f (x)\n"
                 "\tMOVQ f, AX\n"}});
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(spelled(*p) == std::vector<std::string>{"MOVQ 0x28(GS), CX", "PUSHQ BX", "PUSHQ BX", "SUBQ $(8*2), SP",
                                                "MOVQ (x), AX"});
  CHECK(p->statements[1].loc.str() == "main.s:8:2");
}

TEST_CASE("#include beside the file, then the -I path - #ifdef, #ifndef, #else, #undef") {
  auto p = run({{"main.s", "#include \"a.h\"\n#include \"b.h\"\n#ifdef A\nA\n#else\nNOTA\n#endif\n#undef A\n#ifndef A\nGONE\n#endif\n"},
                {"a.h", "#define A MOVQ AX, BX\n"},
                {"inc/b.h", "#ifdef NOPE\n@@ not lexed\n#endif\n"}},
               {"inc"});
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  CHECK(spelled(*p) == std::vector<std::string>{"MOVQ AX, BX", "GONE"});
}

TEST_CASE("#pragma passes through - recursion and blow-ups stop with an error") {
  auto p = run({{"main.s", "#pragma dynimport runtime·WriteFile WriteFile \"kernel32.dll\"\n"}});
  REQUIRE(p.ok());
  CHECK(spelled(*p) == std::vector<std::string>{"pragma dynimport runtime·WriteFile WriteFile \"kernel32.dll\""});

  auto self = run({{"main.s", "#define A A B\nA\n"}});  // A is not expanded inside itself
  REQUIRE(self.ok());
  CHECK(spelled(*self) == std::vector<std::string>{"A B"});

  std::string bomb = "#define X0 a a\n";
  for (int i = 1; i < 30; ++i) bomb += fmt::format("#define X{} X{} X{}\n", i, i - 1, i - 1);
  auto big = run({{"main.s", bomb + "X29\n"}});
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message == "main.s:31:1: macro expansion produces too many tokens");

  // Each macro expands the next: 64 levels deep is allowed, 65 refused where the first is used.
  auto chain = [](int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += fmt::format("#define M{} M{}\n", i, i + 1);
    return text + fmt::format("#define M{} NOP\n\tM0\n", depth);
  };
  REQUIRE_MESSAGE(run({{"main.s", chain(63)}}).ok(), run({{"main.s", chain(63)}}).error().message);
  CHECK(run({{"main.s", chain(65)}}).error().message.ends_with("macro expansion nests deeper than 64"));

  auto cycle = run({{"main.s", "#include \"main.s\"\n"}});
  REQUIRE_FALSE(cycle.ok());
  CHECK(cycle.error().message == "main.s:1:1: #include nests deeper than 32 (a cycle?)");
}

TEST_CASE("an object-like macro naming a function-like one takes the arguments after it, as cpp rescans") {
  auto p = run({{"main.s", "#define f(x) ((x)+1)\n#define g f\n\tMOVL $g(2), AX\n"}});
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  const auto want = spell(run({{"main.s", "\tMOVL $((2)+1), AX\n"}})->statements[0].tokens);
  CAPTURE(want);
  REQUIRE(spelled(*p).size() == 1);
  auto squeezed = [](std::string s) {  // spell() spaces tokens by where they stood
    std::erase(s, ' ');
    return s;
  };
  CHECK(squeezed(spelled(*p)[0]) == squeezed(want));
}

namespace {

// Every statement and token as the assembler sees it (kind, text, value, where), or the error; each line
// number less `shift`.
std::string rendered(const Expected<Preprocessed>& p, int shift) {
  auto at = [&](const TokenLoc& loc) { return fmt::format("{}:{}", loc.line - shift, loc.column); };
  if (!p) {
    std::smatch m;
    const std::string& message = p.error().message;
    if (!std::regex_search(message, m, std::regex(R"(^main\.s:(\d+):)"))) return "error " + message;
    return fmt::format("error {}:{}", std::stoi(m[1]) - shift, m.suffix().str());
  }
  std::string out;
  for (const Statement& s : p->statements) {
    out += fmt::format("{} {}:", static_cast<int>(s.kind), at(s.loc));
    for (const Token& t : s.tokens) out += fmt::format(" {}|{}|{}|{}", static_cast<int>(t.kind), t.text, t.value, at(t.loc));
    out += '\n';
  }
  return out;
}

}  // namespace

// A file without /* is not stripped first: the line lexer ends each line at its // comment, and its lines
// are read from the ones its SourceLines found. A /**/ line before it forces the other way (every comment
// taken out, then the stripped text searched for its lines and lexed), the reference for the rest.
TEST_CASE("// comments: ended by the line lexer as when taken out first, continuations and errors included") {
  auto same = [](const std::string& text) {
    CAPTURE(text);
    CHECK(rendered(run({{"main.s", text}}), 0) == rendered(run({{"main.s", "/**/\n" + text}}), 1));
  };
  for (const char* text : {"MOVQ AX, BX // x \\\nADDQ $1, AX", "#define X 1 // one \\\nMOVQ $X, AX",
                           "#ifdef Y\nMOVQ @ // x \\\n#endif\nRET", "DATA m+0(SB)/8, $\"a//b\" // c \\\nRET",
                           "'/' // x", "MOVQ $'\\'', AX // '\\\nRET", "\"open // x\\\nRET", "// \\\nRET", "a//b"})
    same(text);
  std::mt19937 rng(20121129);
  for (int k = 0; k < 20000; ++k) {
    std::string text(rng() % 48, ' ');
    for (char& c : text) c = "a1/\"'\\\n #;$(),"[rng() % 14];
    same(text);
  }
}

// The reference: strtoull, given the base the spelling asks for (0NN octal, else decimal), and whether the
// digits all belong to it and fit in 64 bits.
TEST_CASE("numbers: decimal and octal spellings of 1 to 22 digits read as strtoull reads them, or are refused") {
  std::mt19937 rng(20121127);
  for (int k = 0; k < 20000; ++k) {
    std::string digits(1 + rng() % 22, '0');
    for (char& c : digits) c = static_cast<char>('0' + (k % 3 == 0 ? rng() % 2 : rng() % 10));  // some all 0s and 1s
    const char* after = std::array{"", ",", ")", "(SP)", " "}[rng() % 5];
    CAPTURE(digits);
    auto p = run({{"main.s", "MOVQ $" + digits + after + "\n"}});
    const int base = digits.size() > 1 && digits[0] == '0' ? 8 : 10;
    const bool in_base = digits.find_first_not_of(base == 8 ? "01234567" : "0123456789") == std::string::npos;
    errno = 0;
    const unsigned long long want = std::strtoull(digits.c_str(), nullptr, base);
    if (!in_base) {
      REQUIRE_FALSE(p.ok());
      CHECK(p.error().message.find("malformed number") != std::string::npos);
    } else if (errno == ERANGE) {
      REQUIRE_FALSE(p.ok());
      CHECK(p.error().message == "main.s:1:7: number does not fit in 64 bits");
    } else {
      REQUIRE_MESSAGE(p.ok(), p.error().message);
      const Token& t = p->statements[0].tokens[2];
      CHECK(t.kind == TokenKind::Number);
      CHECK(t.text == digits);
      CHECK(t.value == want);
    }
  }
}
