#include "server/metrics.h"

#include "engine/prefix-cache.h"
#include "server/connection-guard.h"
#include "engine/system-info.h"

#include <iterator>
#include <sstream>

namespace muse::server {

// A label value in the text format: backslash, double quote and newline escaped.
static std::string label_escape(const std::string & v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

void histogram::observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i]++;
    sum_ += v;
    count_++;
}

std::string histogram::render(const std::string & name, const std::string & help) const {
    std::ostringstream o;
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        o << name << "_bucket{le=\"" << bounds_[i] << "\"} " << cumulative << "\n";
    }
    cumulative += counts_.back();
    o << name << "_bucket{le=\"+Inf\"} " << cumulative << "\n";
    o << name << "_sum " << sum_ << "\n" << name << "_count " << count_ << "\n";
    return o.str();
}

void metrics::request_count(const std::string & route, int status) {
    std::lock_guard lk(mu_);
    requests_[{ route, status }]++;
}

void metrics::generation_count(int prompt_tokens, int generated_tokens, double ttft_secs, double tokens_per_sec) {
    std::lock_guard lk(mu_);
    prompt_tokens_ += (uint64_t) prompt_tokens;
    generated_tokens_ += (uint64_t) generated_tokens;
    if (ttft_secs > 0) ttft_.observe(ttft_secs);
    if (tokens_per_sec > 0) tps_.observe(tokens_per_sec);
}

std::string metrics::render(int queue_depth, int sequences_active, int sequences_total) const {
    std::lock_guard    lk(mu_);
    std::ostringstream o;
    o << "# HELP muse_requests_total HTTP requests by route and status.\n# TYPE muse_requests_total counter\n";
    for (const auto & [key, n] : requests_) {
        o << "muse_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    }
    o << "# HELP muse_tokens_prompt_total Prompt tokens decoded.\n# TYPE muse_tokens_prompt_total counter\n"
      << "muse_tokens_prompt_total " << prompt_tokens_ << "\n";
    o << "# HELP muse_tokens_generated_total Tokens generated.\n# TYPE muse_tokens_generated_total counter\n"
      << "muse_tokens_generated_total " << generated_tokens_ << "\n";
    o << "# HELP muse_queue_depth Requests waiting for a sequence slot.\n# TYPE muse_queue_depth gauge\n"
      << "muse_queue_depth " << queue_depth << "\n";
    o << "# HELP muse_sequences_active Sequences being decoded.\n# TYPE muse_sequences_active gauge\n"
      << "muse_sequences_active " << sequences_active << "\n";
    o << "# HELP muse_sequences_max Sequence slots for plain requests.\n# TYPE muse_sequences_max gauge\n"
      << "muse_sequences_max " << sequences_total << "\n";
    o << ttft_.render("muse_ttft_seconds", "Time from request to first token.");
    o << tps_.render("muse_tokens_per_second", "Generated tokens per second per request.");
    return o.str();
}

std::string build_info_render(const system_info & s) {
    const auto join = [](const std::vector<std::string> & v) {
        std::string out;
        for (const auto & x : v) out += (out.empty() ? "" : " ") + x;
        return out;
    };
    const std::pair<const char *, std::string> labels[] = {
        { "version", s.version },       { "revision", s.commit },  { "llama_cpp", s.llama_cpp_commit },
        { "cpu", s.cpu_model },         { "kernels", join(s.kernels_built) }, { "buffers", join(s.kernels_in_use) },
    };
    std::ostringstream o;
    o << "# HELP muse_build_info The build (muse's version and revision, the llama.cpp commit), the CPU and the ggml "
         "kernels built and in use; always 1.\n# TYPE muse_build_info gauge\nmuse_build_info{";
    for (size_t i = 0; i < std::size(labels); ++i) {
        o << (i ? "," : "") << labels[i].first << "=\"" << label_escape(labels[i].second) << "\"";
    }
    o << "} 1\n";
    return o.str();
}

}  // namespace muse::server

namespace muse::server {

std::string cache_metrics_render(const prefix_cache_stats & s) {
    std::ostringstream o;
    const auto one = [&](const char * name, const char * type, const char * help, uint64_t v) {
        o << "# HELP muse_prefix_cache_" << name << " " << help << "\n# TYPE muse_prefix_cache_" << name << " " << type
          << "\nmuse_prefix_cache_" << name << " " << v << "\n";
    };
    one("lookups_total", "counter", "Requests that looked for a cached prefix.", s.lookups);
    one("hits_total", "counter", "Requests that started from a cached prefix.", s.hits);
    one("hit_tokens_total", "counter", "Prompt tokens taken from the cache instead of decoded.", s.hit_tokens);
    one("hits_ram_total", "counter", "Hits restored from host RAM.", s.hits_ram);
    one("hits_disk_total", "counter", "Hits restored from disk.", s.hits_disk);
    one("evictions_total", "counter", "Entries moved out of the KV pool (to RAM, disk or nowhere).", s.evictions);
    one("dropped_total", "counter", "Entries forgotten for want of room.", s.dropped);
    one("spilled_bytes_total", "counter", "Bytes of KV cells written to RAM or disk.", s.spilled_bytes);
    one("corrupt_total", "counter", "Spilled entries refused on the way back (checksum, layout).", s.corrupt);
    one("entries_pool", "gauge", "Conversations parked in the KV pool.", s.entries_pool);
    one("cells_pool", "gauge", "KV cells those hold.", s.cells_pool);
    one("entries_ram", "gauge", "Conversations spilled to host RAM.", s.entries_ram);
    one("bytes_ram", "gauge", "Bytes those hold.", s.bytes_ram);
    one("entries_disk", "gauge", "Conversations spilled to disk.", s.entries_disk);
    one("bytes_disk", "gauge", "Bytes those hold.", s.bytes_disk);
    return o.str();
}

std::string connection_metrics_render(const connection_stats & s) {
    std::ostringstream o;
    o << "# HELP muse_connections_open HTTP connections open.\n# TYPE muse_connections_open gauge\n"
      << "muse_connections_open " << s.open << "\n";
    o << "# HELP muse_connections_refused_total Connections over --max-connections, answered 503 and closed.\n"
         "# TYPE muse_connections_refused_total counter\nmuse_connections_refused_total "
      << s.refused << "\n";
    o << "# HELP muse_connections_closed_total Connections the server answered itself and closed, by reason.\n"
         "# TYPE muse_connections_closed_total counter\n";
    const std::pair<const char *, uint64_t> reasons[] = {
        { "header_deadline", s.header_deadline }, { "body_deadline", s.body_deadline },
        { "head_too_large", s.head_too_large },   { "body_too_large", s.body_too_large },
    };
    for (const auto & [reason, n] : reasons) o << "muse_connections_closed_total{reason=\"" << reason << "\"} " << n << "\n";
    return o.str();
}

}  // namespace muse::server
