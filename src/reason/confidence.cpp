#include "reason/confidence.h"

#include <algorithm>

namespace muse::reason {

void confidence_window::push(double c) {
    window_.push_back(c);
    sum_ += c;
    sum_all_ += c;
    n_++;
    if (window_.size() > size_) {
        sum_ -= window_.front();
        window_.pop_front();
    }
    if (full()) {
        const double m = current();
        lowest_        = has_full_ ? std::min(lowest_, m) : m;
        has_full_      = true;
    }
}

double confidence_window::current() const { return window_.empty() ? 0.0 : sum_ / (double) window_.size(); }

double confidence_window::lowest() const { return has_full_ ? lowest_ : current(); }

double percentile(std::vector<double> v, double percent) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const double pos = std::clamp(percent, 0.0, 100.0) / 100.0 * (double) (v.size() - 1);
    const size_t lo  = (size_t) pos;
    const size_t hi  = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - (double) lo);
}

}  // namespace muse::reason
