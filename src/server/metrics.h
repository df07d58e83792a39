#pragma once
// Counters and histograms for GET /metrics (Prometheus text format 0.0.4).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace muse {
struct system_info;
struct prefix_cache_stats;
}

namespace muse::server {

struct connection_stats;

class histogram {
  public:
    explicit histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
    void        observe(double v);
    std::string render(const std::string & name, const std::string & help) const;

  private:
    std::vector<double>   bounds_;
    std::vector<uint64_t> counts_;  // per bucket (not cumulative); last is +Inf
    double                sum_   = 0;
    uint64_t              count_ = 0;
};

class metrics {
  public:
    void request_count(const std::string & route, int status);
    void generation_count(int prompt_tokens, int generated_tokens, double ttft_secs, double tokens_per_sec);
    // `gauges` are the scheduler's live values (queue depth, active sequences).
    std::string render(int queue_depth, int sequences_active, int sequences_total) const;

  private:
    mutable std::mutex                        mu_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    uint64_t                                  prompt_tokens_    = 0;
    uint64_t                                  generated_tokens_ = 0;
    histogram ttft_{ { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 } };
    histogram tps_{ { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000 } };
};

// The muse_build_info gauge (always 1): versions, CPU and kernels as labels.
std::string build_info_render(const system_info & s);

// The prefix cache's counters and gauges (muse_prefix_cache_*).
std::string cache_metrics_render(const prefix_cache_stats & s);

// The connection guard's gauge and counters (muse_connections_*).
std::string connection_metrics_render(const connection_stats & s);

}  // namespace muse::server
