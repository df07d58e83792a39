#include "cli/suggest.h"

#include <algorithm>
#include <climits>

namespace muse::cli {

static std::string without_dashes(const std::string & s) {
    const size_t i = s.find_first_not_of('-');
    return i == std::string::npos ? std::string() : s.substr(i);
}

// Edits (insert, delete, substitute, swap two neighbours) that turn a into b.
static int edit_distance(const std::string & a, const std::string & b) {
    const size_t n = a.size(), m = b.size();
    std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
    for (size_t i = 0; i <= n; ++i) d[i][0] = (int) i;
    for (size_t j = 0; j <= m; ++j) d[0][j] = (int) j;
    for (size_t i = 1; i <= n; ++i) {
        for (size_t j = 1; j <= m; ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j]        = std::min({ d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost });
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[n][m];
}

std::string closest_name(const std::string & given, const std::vector<std::string> & known) {
    const std::string g = without_dashes(given);
    if (g.empty()) {
        return "";
    }
    std::string best;
    int         best_score = INT_MAX;
    for (const auto & name : known) {
        const std::string k = without_dashes(name);
        if (k.empty() || k == g) {
            continue;
        }
        int score = INT_MAX;
        const int limit = std::max(1, (int) std::min(g.size(), k.size()) / 3);
        if (const int d = edit_distance(g, k); d <= limit) {
            score = d;
        }
        const std::string & shorter = g.size() < k.size() ? g : k;
        const std::string & longer  = g.size() < k.size() ? k : g;
        if (shorter.size() >= 3 && longer.compare(0, shorter.size(), shorter) == 0) {
            score = std::min(score, 1 + (int) (longer.size() - shorter.size()) / 4);
        }
        if (score < best_score) {
            best_score = score;
            best       = name;
        }
    }
    return best;
}

}  // namespace muse::cli
