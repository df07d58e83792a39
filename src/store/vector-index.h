#pragma once
// Each user's nearest-neighbour index over their chunks' embeddings: hnswlib (header-only,
// Debian's libhnswlib-dev) with cosine similarity as the inner product of unit vectors. It is
// a cache of what the database holds: built from the BLOBs on a user's first vector search,
// kept in step by add and remove, and rebuilt when the vectors' dims change or the database
// holds other rows than the index (another process wrote). One index per user: a search
// never sees another user's vectors.
//
// Not thread-safe: the database's mutex guards it like the connection.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace muse::store {

// One vector row as the database holds it.
struct vector_row {
    int64_t            chunk_id = 0;
    std::string        source;  // "<kind>:<source id>", the unit removed together
    std::vector<float> vector;  // unit length
};

// What the database holds for a user and dims: the index must hold the same to be current.
struct vector_census {
    int64_t count  = 0;
    int64_t max_id = 0;
};

// The unit vector of `v`; throws std::invalid_argument naming `what` for an empty, zero or
// non-finite vector.
std::vector<float> vector_unit(const std::vector<float> & v, const std::string & what);

class vector_index_set {
  public:
    vector_index_set();
    ~vector_index_set();
    vector_index_set(const vector_index_set &)             = delete;
    vector_index_set & operator=(const vector_index_set &) = delete;

    // A new chunk's unit vector. A user whose index is not built yet, or is built for other
    // dims, is left to the next search (which builds from the database).
    void add(int64_t user_id, const vector_row & row);
    // The source's vectors leave the index (markDelete); nothing when the index is not built.
    void remove_source(int64_t user_id, const std::string & source);
    // Forgets the user's whole index (the user is deleted).
    void drop(int64_t user_id);

    // The k nearest chunks to the unit vector `query` as (chunk id, cosine similarity), best
    // first. `census` is what the database holds for this user and dims; `load` reads all of
    // those rows when the index must be (re)built.
    std::vector<std::pair<int64_t, float>> nearest(int64_t user_id, const std::vector<float> & query, size_t k,
                                                   const vector_census &                          census,
                                                   const std::function<std::vector<vector_row>()> & load);

  private:
    struct user_index;
    std::map<int64_t, std::unique_ptr<user_index>> users_;
};

}  // namespace muse::store
