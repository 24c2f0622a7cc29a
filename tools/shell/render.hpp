// How parley-shell shows the admin actor's JSON answers to people: objects as
// "key: value" lines, arrays of objects as tables, nested parts indented.
#pragma once

#include <string>

namespace parley::shell {

/// Text for a JSON answer (a parsed document's dump).
std::string render(const std::string& json_text);

} // namespace parley::shell
