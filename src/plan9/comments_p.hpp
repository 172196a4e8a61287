// Plan 9 comments, blanked before lexing: // to the end of the line and /* ... */ become spaces (newlines
// stay), so that every line and column keeps its meaning. A slash inside a string or character constant is
// text; such a constant ends at its quote or at the end of its line.
#pragma once

#include <string>

#include "w64stub/core/error.hpp"

namespace w64stub::plan9 {

// `text` with its comments blanked; an unterminated /* is an error at its file:line:col.
Expected<std::string> strip_comments(std::string text, const FileName& file);

}  // namespace w64stub::plan9
