#pragma once
// Trimming the ends of a string: every parser in muse (HTTP headers, /proc/cpuinfo, suites,
// answers, guard verdicts, rules, grammars) needs it, and one copy keeps them agreeing.
#include <string>
#include <string_view>

namespace muse {

// The characters std::isspace takes in the "C" locale.
inline constexpr std::string_view ascii_space = " \t\r\n\f\v";

// `s` without the leading and trailing characters found in `chars`.
inline std::string trim(std::string_view s, std::string_view chars = ascii_space) {
    const size_t a = s.find_first_not_of(chars);
    if (a == std::string_view::npos) return {};
    return std::string(s.substr(a, s.find_last_not_of(chars) - a + 1));
}

}  // namespace muse
