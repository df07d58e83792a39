#include "store/vector-index.h"

// hnswlib 0.6's SSE paths prefetch through the entry one past each link list, a heap read
// past the end that AddressSanitizer reports (the sanitize label runs these tests). Without
// them the graph code is plain; the distance below is ours. Include hnswlib.h in this file
// only: it defines non-inline functions.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "store/database.h"

namespace muse::store {

namespace {

// hnswlib's graph parameters: M links per node and the candidate list while building. Small
// per-user corpora (thousands of chunks) search exactly enough with these.
constexpr size_t k_links           = 16;
constexpr size_t k_ef_construction = 100;
constexpr size_t k_ef_search_min   = 64;
constexpr size_t k_capacity_min    = 64;

// Cosine distance of unit vectors, 1 - dot, with eight independent sums the compiler turns
// into one SIMD register (hnswlib's own SIMD went with NO_MANUAL_VECTORIZATION).
float unit_distance(const void * a, const void * b, const void * dims_p) {
    const float * x    = static_cast<const float *>(a);
    const float * y    = static_cast<const float *>(b);
    const size_t  dims = *static_cast<const size_t *>(dims_p);
    float         acc[8] = {};
    size_t        i      = 0;
    for (; i + 8 <= dims; i += 8) {
        for (size_t j = 0; j < 8; ++j) acc[j] += x[i + j] * y[i + j];
    }
    float dot = 0;
    for (; i < dims; ++i) dot += x[i] * y[i];
    for (float s : acc) dot += s;
    return 1.0f - dot;
}

class unit_space final : public hnswlib::SpaceInterface<float> {
  public:
    explicit unit_space(size_t dims) : dims_(dims) {}
    size_t                   get_data_size() override { return dims_ * sizeof(float); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return unit_distance; }
    void *                   get_dist_func_param() override { return &dims_; }

  private:
    size_t dims_;
};

}  // namespace

std::vector<float> vector_unit(const std::vector<float> & v, const std::string & what) {
    if (v.empty()) {
        throw std::invalid_argument(what + " is empty; pass one float per embedding dimension, or no vector at all");
    }
    double norm = 0;
    for (float x : v) {
        if (!std::isfinite(x)) {
            throw std::invalid_argument(what + " holds a NaN or infinite value; check the embedding model's output");
        }
        norm += (double) x * x;
    }
    if (norm <= 0) {
        throw std::invalid_argument(what + " is all zeros and has no direction; check the embedding model's output");
    }
    const double       inv = 1.0 / std::sqrt(norm);
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = (float) (v[i] * inv);
    return out;
}

struct vector_index_set::user_index {
    size_t dims = 0;
    // The space outlives the graph that points at it (members die in reverse order).
    std::unique_ptr<unit_space>                      space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
    std::map<std::string, std::vector<int64_t>>      by_source;
    std::set<int64_t>                                live;
    size_t                                           deleted = 0;

    user_index(size_t d, size_t capacity) :
        dims(d),
        space(std::make_unique<unit_space>(d)),
        graph(std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), std::max(capacity, k_capacity_min),
                                                                k_links, k_ef_construction)) {}

    void insert(const vector_row & row) {
        if (row.vector.size() != dims) return;
        if (graph->cur_element_count >= graph->max_elements_) graph->resizeIndex(graph->max_elements_ * 2);  // hnswlib 0.6: public fields
        // An id seen before (marked deleted) is updated in place by addPoint.
        graph->addPoint(row.vector.data(), (hnswlib::labeltype) row.chunk_id);
        if (live.insert(row.chunk_id).second) by_source[row.source].push_back(row.chunk_id);
    }

    bool current(size_t d, const vector_census & census) const {
        const int64_t max_id = live.empty() ? 0 : *live.rbegin();
        return d == dims && (int64_t) live.size() == census.count && max_id == census.max_id;
    }
};

vector_index_set::vector_index_set()  = default;
vector_index_set::~vector_index_set() = default;

void vector_index_set::add(int64_t user_id, const vector_row & row) {
    auto it = users_.find(user_id);
    if (it == users_.end()) return;
    if (it->second->dims != row.vector.size()) {
        users_.erase(it);  // the embedding model changed: the next search builds for the new dims
        return;
    }
    try {
        it->second->insert(row);
    } catch (const std::exception &) {
        users_.erase(it);  // out of memory growing the graph: rebuild later rather than serve half
    }
}

void vector_index_set::remove_source(int64_t user_id, const std::string & source) {
    auto it = users_.find(user_id);
    if (it == users_.end()) return;
    user_index & u   = *it->second;
    auto         src = u.by_source.find(source);
    if (src == u.by_source.end()) return;
    for (int64_t id : src->second) {
        if (u.live.erase(id) == 0) continue;
        u.graph->markDelete((hnswlib::labeltype) id);
        u.deleted++;
    }
    u.by_source.erase(src);
    // Deleted nodes keep their memory and slow the walk: past as many as live ones, rebuild.
    if (u.deleted > u.live.size() + k_capacity_min) users_.erase(it);
}

void vector_index_set::drop(int64_t user_id) {
    users_.erase(user_id);
}

std::vector<std::pair<int64_t, float>> vector_index_set::nearest(
    int64_t user_id, const std::vector<float> & query, size_t k, const vector_census & census,
    const std::function<std::vector<vector_row>()> & load) {
    std::vector<std::pair<int64_t, float>> out;
    if (query.empty() || k == 0) return out;
    auto it = users_.find(user_id);
    if (it == users_.end() || !it->second->current(query.size(), census)) {
        if (it != users_.end()) users_.erase(it);
        if (census.count == 0) return out;
        std::vector<vector_row> rows = load();
        try {
            auto u = std::make_unique<user_index>(query.size(), rows.size() + rows.size() / 2);
            for (const auto & r : rows) u->insert(r);
            it = users_.emplace(user_id, std::move(u)).first;
        } catch (const std::exception & e) {
            throw store_error("cannot build the vector index of user " + std::to_string(user_id) + " (" +
                              std::to_string(rows.size()) + " vectors): " + e.what() +
                              "; free memory, or search without a query vector");
        }
    }
    user_index & u = *it->second;
    if (u.live.empty()) return out;
    k = std::min(k, u.live.size());
    u.graph->setEf(std::max(k, k_ef_search_min));
    auto found = u.graph->searchKnn(query.data(), k);
    // A max-heap on distance: the farthest comes out first.
    while (!found.empty()) {
        out.emplace_back((int64_t) found.top().second, 1.0f - found.top().first);
        found.pop();
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace muse::store
