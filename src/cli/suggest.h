#pragma once
// "Did you mean": the known name closest to a mistyped one (a command, a flag).
#include <string>
#include <vector>

namespace muse::cli {

// The name in `known` closest to `given`, or "" when none is close: a few edits apart (typos,
// swapped letters), or one the start of the other (`--temperature` for `--temp`). Leading
// dashes are ignored when comparing.
std::string closest_name(const std::string & given, const std::vector<std::string> & known);

}  // namespace muse::cli
