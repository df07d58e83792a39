#include "engine/prefix-cache.h"

#include "engine/error.h"
#include "engine/kv-file.h"
#include "engine/model.h"

#include <algorithm>
#include <random>

namespace muse {

namespace fs = std::filesystem;

// What must match for a file's cells to be ours: the model file and the layout of its cache.
static uint64_t fingerprint_of(const session & s) {
    const model_info & i = s.get_model().info();
    std::error_code    ec;
    std::string        key = fs::absolute(i.path, ec).string();
    key += "|" + std::to_string(fs::file_size(i.path, ec));
    const auto mtime = fs::last_write_time(i.path, ec);
    key += "|" + std::to_string(ec ? 0 : (long long) mtime.time_since_epoch().count());
    key += "|" + i.arch + "|" + std::to_string(i.n_layer) + "|" + std::to_string(i.n_embd) + "|" +
           std::to_string(i.kv_bytes_per_token) + "|fa" + std::to_string(s.params().flash_attn);
    return kv_checksum((const uint8_t *) key.data(), key.size());
}

prefix_cache::prefix_cache(session & s, prefix_cache_params params) : s_(s), params_(std::move(params)) {
    fingerprint_ = fingerprint_of(s_);
    if (params_.disk_bytes > 0 && !params_.disk_dir.empty()) {
        std::error_code ec;
        fs::create_directories(params_.disk_dir, ec);
        if (ec) {
            throw runtime_error("cannot create the KV cache folder " + params_.disk_dir.string() + ": " + ec.message() +
                                "; choose another data dir or turn --cache-disk off");
        }
        disk_index_load();
    }
    stats_publish();
}

prefix_cache::~prefix_cache() {
    for (auto & e : entries_) {
        if (e.place == ENTRY_PLACE_POOL) {
            try {
                s_.sequence_release(e.seq);
            } catch (...) {
                // the session is going away with its cells
            }
        }
    }
}

void prefix_cache::disk_index_load() {
    std::error_code ec;
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    for (const auto & f : fs::directory_iterator(params_.disk_dir, ec)) {
        if (f.path().extension() == ".kv" && f.is_regular_file(ec)) {
            files.emplace_back(f.last_write_time(ec), f.path());
        } else if (f.path().extension() == ".tmp") {
            fs::remove(f.path(), ec);  // a write the last run did not finish
        }
    }
    std::sort(files.begin(), files.end());  // oldest first: least recently used
    uint64_t used = 0;
    for (const auto & [t, path] : files) {
        const auto h = kv_file_read_header(path, fingerprint_);
        if (!h || h->tokens.empty() || used + h->data_bytes > params_.disk_bytes) {
            fs::remove(path, ec);  // another model's, damaged, or over the budget now
            continue;
        }
        entry e;
        e.owner      = h->owner;
        e.tag        = h->tag;
        e.tokens     = h->tokens;
        e.prompt_len = (int32_t) h->tokens.size();
        e.place      = ENTRY_PLACE_DISK;
        e.size       = h->data_bytes;
        e.file       = path;
        e.used       = ++clock_;
        used += e.size;
        entries_.push_back(std::move(e));
    }
}

std::pair<prefix_cache::entry_it, size_t> prefix_cache::best_match(const std::string & owner,
                                                                    const std::vector<int32_t> & want) {
    entry_it best = entries_.end();
    size_t   best_n = 0;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->owner != owner && it->owner != k_shared_owner) continue;
        const auto & have = it->tokens;
        size_t       n    = 0;
        while (n < have.size() && n < want.size() && have[n] >= 0 && have[n] == want[n]) n++;
        if (n > best_n || (n == best_n && n > 0 && best != entries_.end() && it->place < best->place)) {
            best   = it;
            best_n = n;
        }
    }
    return { best, best_n };
}

prefix_cache::entry_it prefix_cache::lru(entry_place place, entry_it except) {
    entry_it out = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->place == place && it != except && (out == entries_.end() || it->used < out->used)) out = it;
    }
    return out;
}

seq_handle prefix_cache::sequence_add(const std::string & owner, const chat_prompt & prompt,
                                      const std::vector<media> & media, const sequence_params & params) {
    counts_.lookups++;
    const auto fresh = [&] {
        slots_make(1);
        stats_publish();
        return s_.sequence_add(prompt, media, params);
    };
    if (!media.empty()) {
        return fresh();
    }
    const std::vector<int32_t> want = s_.get_model().tokenize(prompt.text());
    if ((int32_t) want.size() >= s_.n_ctx_seq()) {
        // Refused before any entry is touched: the conversation's cells stay for a shorter turn.
        throw input_error("the prompt is " + std::to_string(want.size()) + " tokens but the context holds " +
                          std::to_string(s_.n_ctx_seq()) + "; shorten the prompt or raise the context size (--ctx-size)");
    }
    auto [e, n] = best_match(owner, want);
    if (n == want.size() && n > 0) {
        n--;  // one token at least is decoded, for logits to sample from
    }
    const size_t needed = e == entries_.end() ? SIZE_MAX : e->place == ENTRY_PLACE_POOL ? 1 : (size_t) params_.restore_min_tokens;
    if (e == entries_.end() || n < std::max<size_t>(needed, 1)) {
        return fresh();
    }
    // The same conversation going on (the new prompt holds all of the entry's): its cells
    // are taken over. Another one that shares a beginning gets its own copy of that part.
    const bool       shared = e->owner == k_shared_owner;
    const bool       take   = n >= (size_t) e->prompt_len && !shared;
    if (!take && n < (size_t) params_.restore_min_tokens) {
        // A short shared beginning (the template's first tokens, which every prompt shares) is
        // decoded: copying would move entries around for a few tokens' worth.
        return fresh();
    }
    const entry_place from = e->place;
    seq_handle       h    = -1;
    try {
        h = seq_from(e, n, take, params, prompt);
    } catch (const runtime_error &) {
        return fresh();  // the cells could not be had after all (sliding window, damage): decode
    }
    try {
        s_.sequence_append_tokens(h, std::vector<int32_t>(want.begin() + (std::ptrdiff_t) n, want.end()));
    } catch (...) {
        s_.sequence_release(h);  // e.g. the prompt overflows the context: the slot goes too
        stats_publish();
        throw;
    }
    counts_.hits++;
    counts_.hit_tokens += n;
    if (from == ENTRY_PLACE_RAM) counts_.hits_ram++;
    if (from == ENTRY_PLACE_DISK) counts_.hits_disk++;
    stats_publish();
    return h;
}

// A sequence holding `e`'s first `n_keep` cells, sampling as `params` say. `take`: the entry
// is used up (its cells become the sequence's); otherwise it stays as it was.
seq_handle prefix_cache::seq_from(entry_it e, size_t n_keep, bool take, const sequence_params & params,
                                  const chat_prompt & prompt) {
    e->used = ++clock_;
    if (e->place == ENTRY_PLACE_POOL) {
        if (!take) {
            slots_make_except(1, e);
            if (s_.n_slots_free() > 0) {
                return s_.sequence_fork_prefix(e->seq, (int32_t) n_keep, params, &prompt);
            }
            if (e->owner == k_shared_owner) {
                throw runtime_error("no slot to copy the shared prefix into");  // decoded afresh; it stays
            }
        }
        const seq_handle h = e->seq;
        entries_.erase(e);
        return resumed(h, n_keep, params, prompt);
    }
    // Spilled: back into a free slot, then as above.
    std::vector<uint8_t> bytes;
    if (e->place == ENTRY_PLACE_RAM) {
        bytes = take ? std::move(e->bytes) : e->bytes;
    } else {
        auto read = kv_file_read(e->file, fingerprint_);
        if (!read) {
            counts_.corrupt++;
            drop(e);
            throw runtime_error("a spilled KV cache entry failed its checks");
        }
        bytes = std::move(read->second);
    }
    const std::vector<int32_t> tokens = e->tokens;
    if (take) {
        drop(e);
    }
    slots_make_except(1, entries_.end());
    seq_handle h = -1;
    try {
        h = s_.sequence_state_set(bytes, tokens);
    } catch (const runtime_error &) {
        counts_.corrupt++;  // (an entry that stays is not touched: making the slot may have moved it)
        throw;
    }
    return resumed(h, n_keep, params, prompt);
}

// `h`, parked, going on as a new sequence over its first `n_keep` cells; released when it cannot.
seq_handle prefix_cache::resumed(seq_handle h, size_t n_keep, const sequence_params & params, const chat_prompt & prompt) {
    try {
        s_.sequence_resume(h, (int32_t) n_keep, params, &prompt);
    } catch (...) {
        s_.sequence_release(h);
        throw;
    }
    return h;
}

void prefix_cache::keep(const std::string & owner, const std::string & tag, seq_handle seq) {
    if (s_.kv_pos_max(seq) < 0) {
        s_.sequence_release(seq);  // cancelled (its cells went) or never decoded
        return;
    }
    if (s_.sequence_finished(seq)) {
        s_.sequence_keep(seq);
    }
    const auto & tokens = s_.sequence_kv_tokens(seq);
    if (tokens.empty()) {
        s_.sequence_release(seq);
        return;
    }
    // Entries this one extends hold nothing it does not.
    for (auto it = entries_.begin(); it != entries_.end();) {
        const auto next = std::next(it);
        if (it->owner == owner && it->tokens.size() <= tokens.size() &&
            std::equal(it->tokens.begin(), it->tokens.end(), tokens.begin())) {
            drop(it);
        }
        it = next;
    }
    const auto & st = s_.sequence(seq);
    entry e;
    e.owner      = owner;
    e.tag        = tag;
    e.tokens     = tokens;
    e.prompt_len = std::min<int32_t>((int32_t) tokens.size(), st.n_shared + st.n_prompt);
    e.seq        = seq;
    e.used       = ++clock_;
    entries_.push_back(std::move(e));
    stats_publish();
}

void prefix_cache::share(const std::vector<int32_t> & tokens) {
    if (tokens.empty()) return;
    for (const auto & e : entries_) {
        if (e.owner == k_shared_owner && e.tokens == tokens) return;  // a previous run's file
    }
    slots_make(1);
    sequence_params sp;
    sp.keep_cells  = true;
    sp.max_tokens  = 1;
    const seq_handle h = s_.sequence_add_tokens(tokens, sp);
    s_.prefill(h);
    s_.sequence_park(h);
    entry e;
    e.owner      = k_shared_owner;
    e.tokens     = tokens;
    e.prompt_len = (int32_t) tokens.size();
    e.seq        = h;
    e.used       = ++clock_;
    entries_.push_back(std::move(e));
    stats_publish();
}

void prefix_cache::slots_make(int32_t n) {
    slots_make_except(n, entries_.end());
    stats_publish();
}

void prefix_cache::slots_make_except(int32_t n, entry_it except) {
    while (s_.n_slots_free() < n) {
        const entry_it e = lru(ENTRY_PLACE_POOL, except);
        if (e == entries_.end()) return;
        evict(e);
    }
}

bool prefix_cache::cells_give_back() {
    const entry_it e = lru(ENTRY_PLACE_POOL, entries_.end());
    if (e == entries_.end()) return false;
    evict(e);
    stats_publish();
    return true;
}

void prefix_cache::evict(entry_it e) {
    counts_.evictions++;
    std::vector<uint8_t> bytes;
    if (params_.ram_bytes > 0 || params_.disk_bytes > 0) {
        try {
            bytes = s_.sequence_state_get(e->seq);
        } catch (const std::exception &) {
            bytes.clear();
        }
    }
    s_.sequence_release(e->seq);
    e->seq = -1;
    if (bytes.empty()) {
        counts_.dropped++;
        entries_.erase(e);
        return;
    }
    place_spilled(e, std::move(bytes));
}

void prefix_cache::place_spilled(entry_it e, std::vector<uint8_t> && bytes) {
    e->size = bytes.size();
    if (e->size <= params_.ram_bytes) {
        uint64_t used = 0;
        for (const auto & x : entries_) used += x.place == ENTRY_PLACE_RAM ? x.size : 0;
        while (used + e->size > params_.ram_bytes) {
            const entry_it old = lru(ENTRY_PLACE_RAM, e);
            if (old == entries_.end()) break;
            used -= old->size;
            ram_to_disk(old);
        }
        counts_.spilled_bytes += e->size;
        e->place = ENTRY_PLACE_RAM;
        e->bytes = std::move(bytes);
        return;
    }
    if (!disk_write(e, bytes)) {
        counts_.dropped++;
        entries_.erase(e);
    }
}

void prefix_cache::ram_to_disk(entry_it e) {
    std::vector<uint8_t> bytes = std::move(e->bytes);
    e->bytes.clear();
    if (!disk_write(e, bytes)) {
        counts_.dropped++;
        entries_.erase(e);
    }
}

bool prefix_cache::disk_write(entry_it e, const std::vector<uint8_t> & bytes) {
    if (params_.disk_bytes == 0 || params_.disk_dir.empty() || bytes.size() > params_.disk_bytes) {
        return false;
    }
    uint64_t used = 0;
    for (const auto & x : entries_) used += x.place == ENTRY_PLACE_DISK ? x.size : 0;
    while (used + bytes.size() > params_.disk_bytes) {
        const entry_it old = lru(ENTRY_PLACE_DISK, e);
        if (old == entries_.end()) return false;
        used -= old->size;
        counts_.dropped++;
        drop(old);
    }
    char name[32];
    snprintf(name, sizeof(name), "%016llx.kv", (unsigned long long) (((uint64_t) std::random_device{}() << 32) ^ std::random_device{}()));
    const fs::path path = params_.disk_dir / name;
    try {
        kv_file_write(path, fingerprint_, { e->owner, e->tag, e->tokens, bytes.size() }, bytes);
    } catch (const runtime_error &) {
        return false;
    }
    counts_.spilled_bytes += bytes.size();
    e->place = ENTRY_PLACE_DISK;
    e->size  = bytes.size();
    e->file  = path;
    e->bytes.clear();
    return true;
}

void prefix_cache::drop(entry_it e) {
    if (e->place == ENTRY_PLACE_POOL && e->seq >= 0) {
        s_.sequence_release(e->seq);
    }
    if (e->place == ENTRY_PLACE_DISK) {
        std::error_code ec;
        fs::remove(e->file, ec);
    }
    entries_.erase(e);
}

void prefix_cache::forget(const std::string & owner, const std::string & tag) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const auto next = std::next(it);
        if (it->owner == owner && (tag.empty() || it->tag == tag)) drop(it);
        it = next;
    }
    stats_publish();
}

void prefix_cache::clear() {
    while (!entries_.empty()) drop(entries_.begin());
    stats_publish();
}

void prefix_cache::persist() {
    if (params_.disk_bytes == 0 || params_.disk_dir.empty()) return;
    // Most recently used first: when the budget runs out, the older ones are what is left out.
    std::vector<entry_it> order;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->place != ENTRY_PLACE_DISK) order.push_back(it);
    }
    std::sort(order.begin(), order.end(), [](entry_it a, entry_it b) { return a->used > b->used; });
    uint64_t room = params_.disk_bytes;
    for (const auto & x : entries_) room -= x.place == ENTRY_PLACE_DISK ? std::min(room, x.size) : 0;
    for (entry_it e : order) {
        std::vector<uint8_t> bytes;
        if (e->place == ENTRY_PLACE_POOL) {
            try {
                bytes = s_.sequence_state_get(e->seq);
            } catch (const std::exception &) {
            }
            s_.sequence_release(e->seq);
            e->seq   = -1;
            e->place = ENTRY_PLACE_RAM;  // until written
        } else {
            bytes = std::move(e->bytes);
        }
        if (bytes.empty() || bytes.size() > room || !disk_write(e, bytes)) {
            entries_.erase(e);
            continue;
        }
        room -= bytes.size();
    }
    stats_publish();
}

void prefix_cache::stats_publish() {
    prefix_cache_stats s = counts_;
    for (const auto & e : entries_) {
        switch (e.place) {
            case ENTRY_PLACE_POOL: s.entries_pool++, s.cells_pool += e.tokens.size(); break;
            case ENTRY_PLACE_RAM: s.entries_ram++, s.bytes_ram += e.size; break;
            case ENTRY_PLACE_DISK: s.entries_disk++, s.bytes_disk += e.size; break;
        }
    }
    std::lock_guard lk(stats_mu_);
    published_ = s;
}

prefix_cache_stats prefix_cache::stats() const {
    std::lock_guard lk(stats_mu_);
    return published_;
}

}  // namespace muse
