#pragma once
// DeepConf's trace confidence: token confidences averaged over a sliding window ("group
// confidence"); a trace's lowest window says how unsure it ever got. Online, a threshold
// taken from warm-up traces stops traces that fall under it.
#include <cstddef>
#include <deque>
#include <vector>

namespace muse::reason {

class confidence_window {
  public:
    explicit confidence_window(size_t size) : size_(size) {}

    void   push(double token_confidence);
    bool   full() const { return window_.size() >= size_; }
    double current() const;                        // mean of the window (of what there is, before full)
    double lowest() const;                         // lowest full-window mean; the current mean before full
    double mean() const { return n_ ? sum_all_ / (double) n_ : 0.0; }
    size_t count() const { return n_; }

  private:
    size_t             size_;
    std::deque<double> window_;
    double             sum_      = 0.0;
    double             sum_all_  = 0.0;
    size_t             n_        = 0;
    double             lowest_   = 0.0;
    bool               has_full_ = false;
};

// The value below which `percent` percent of `values` lie (linear interpolation).
double percentile(std::vector<double> values, double percent);

}  // namespace muse::reason
