// Plan 9 comments. A file with a /* comment has them all taken out before lexing, so that every line and
// column keeps its meaning: a // comment is left out up to its newline, a /* ... */ becomes spaces (its
// newlines stay). In any other file the line lexer ends each line at its // comment itself. Either way a
// slash inside a string or character constant is text; such a constant ends at its quote or its line's end.
#pragma once

#include <string>
#include <string_view>

#include "w64stub/core/error.hpp"

namespace w64stub::plan9 {

// `text` without its comments; an unterminated /* is an error at its file:line:col.
Expected<std::string> strip_comments(std::string text, const FileName& file);

// Where one line's code ends: at its // comment (outside any constant), else at its end.
size_t code_end(std::string_view line);

}  // namespace w64stub::plan9
