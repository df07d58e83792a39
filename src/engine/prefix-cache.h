#pragma once
// Conversations' KV cells kept across requests, so that a conversation's next turn decodes
// only what it adds. When a request ends, its sequence (prompt and answer) stays parked in
// the session, in a sequence slot no running request needs, as an entry of its owner's. A new
// request of the same owner starts from the entry that shares the longest token prefix with
// its prompt: a turn that continues the entry's conversation takes its cells over in place
// (nothing is copied or decoded again); one that only shares a beginning (a system prompt, a
// first question) gets a copy of that part and the entry stays. When slots or cells are
// needed by running requests the least recently used entries leave the session: to host RAM,
// then to files under a folder (llama.cpp's sequence state, checksummed), each bounded, and
// come back from there on their next turn when they share enough of it to beat a prefill.
//
// An entry is only ever reused by its owner: a hit, and the time it saves, tells nothing about
// anyone else's prompts. The one exception are prefixes an operator shares (share(): a system
// prompt every user's conversation starts with), decoded once at start and copied from by all. Prompts with images or audio are decoded afresh (their positions hold
// embeddings that tokens cannot be matched against), and so are entries' parts after media.
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/session.h"

#include <cstdint>
#include <filesystem>
#include <list>
#include <mutex>
#include <string>
#include <vector>

namespace muse {

struct prefix_cache_params {
    uint64_t              ram_bytes  = 0;  // host RAM for entries that left the session (0: none)
    uint64_t              disk_bytes = 0;  // files under disk_dir for those that left RAM (0: none)
    std::filesystem::path disk_dir;        // kept across restarts, for the same model and layout
    // A spilled entry comes back, and a parked one is copied from, when it shares at least this
    // many tokens with the prompt (an entry whose conversation goes on is taken over at any
    // length). The cost line lies lower (bench/prefix-restore, 0.6B Q8_0 on 2 cores: decoding 32
    // tokens 0.20 s, restoring them 0.003 s, copying a 1536-cell stream ~0.01 s); 32 keeps the
    // template's first tokens, which every prompt shares, from moving entries around.
    int32_t               restore_min_tokens = 32;
};

struct prefix_cache_stats {
    uint64_t lookups      = 0;  // requests that asked
    uint64_t hits         = 0;  // ...and started from an entry
    uint64_t hit_tokens   = 0;  // prompt tokens not decoded thanks to it
    uint64_t hits_ram     = 0;  // of the hits: entries restored from RAM
    uint64_t hits_disk    = 0;  // ... and from disk
    uint64_t evictions    = 0;  // entries that left the session for RAM, disk or nowhere
    uint64_t dropped      = 0;  // entries forgotten for want of room
    uint64_t spilled_bytes = 0; // written to RAM or disk, in all
    uint64_t corrupt      = 0;  // spilled entries refused on the way back (checksum, layout)
    uint64_t entries_pool = 0, cells_pool = 0;  // now: parked in the session
    uint64_t entries_ram  = 0, bytes_ram = 0;
    uint64_t entries_disk = 0, bytes_disk = 0;
};

class prefix_cache {
  public:
    // `s` outlives the cache. With a disk_dir, the files a previous run left there for the
    // same model are entries again; files of another model or damaged ones are deleted.
    explicit prefix_cache(session & s, prefix_cache_params params = {});
    ~prefix_cache();  // parked entries free their cells; files stay
    prefix_cache(const prefix_cache &)             = delete;
    prefix_cache & operator=(const prefix_cache &) = delete;

    // A sequence for `prompt` that starts from `owner`'s entry sharing the longest prefix with
    // it (a fresh sequence when none does). Its stats' n_shared says how many prompt tokens
    // were reused. Makes a free slot from a parked entry when there is none.
    seq_handle sequence_add(const std::string & owner, const chat_prompt & prompt, const std::vector<media> & media,
                            const sequence_params & params);

    // `seq` — finished with sequence_params::keep_cells, or parked — becomes an entry of
    // `owner`'s, tagged (e.g. with a conversation id) for forget(). Entries it extends go.
    void keep(const std::string & owner, const std::string & tag, seq_handle seq);

    // Moves parked entries out of the session until `n` sequence slots are free, or none is
    // left to move: running requests come first.
    void slots_make(int32_t n);

    // The session's KV pool is full (step_hooks::kv_full): moves one parked entry out.
    // Returns false when none was left.
    bool cells_give_back();

    // Decodes `tokens` once (unless a previous run's file holds them) and keeps them as an entry
    // every owner's requests may copy from: what the operator shares. It stays copied from,
    // never taken over; pushed out of the session like any entry, it comes back from RAM or disk.
    void share(const std::vector<int32_t> & tokens);

    // Forgets `owner`'s entries — those tagged `tag`, or all of them for "" — in the session,
    // in RAM and on disk (a deleted conversation or user).
    void forget(const std::string & owner, const std::string & tag = "");

    // Forgets every entry, files included.
    void clear();

    // Writes the entries in the session and in RAM to disk, as far as the disk budget goes
    // (a server stopping: its conversations' cells are there for the next start).
    void persist();

    // A snapshot; safe from any thread (the rest runs on the session's thread).
    prefix_cache_stats stats() const;

  private:
    static constexpr const char * k_shared_owner = "\x01shared";  // no user id looks like it
    enum entry_place { ENTRY_PLACE_POOL, ENTRY_PLACE_RAM, ENTRY_PLACE_DISK };
    struct entry {
        std::string          owner, tag;
        std::vector<int32_t> tokens;      // the cells' tokens, by position (-1 for media)
        int32_t              prompt_len = 0;  // of those, the request's prompt
        entry_place          place = ENTRY_PLACE_POOL;
        seq_handle           seq   = -1;  // POOL
        std::vector<uint8_t> bytes;       // RAM
        uint64_t             size  = 0;   // RAM and DISK: bytes of cells
        std::filesystem::path file;       // DISK
        uint64_t             used  = 0;   // least recently used goes first
    };
    using entry_it = std::list<entry>::iterator;

    std::pair<entry_it, size_t> best_match(const std::string & owner, const std::vector<int32_t> & want);
    seq_handle                  seq_from(entry_it e, size_t n_keep, bool take, const sequence_params & params,
                                         const chat_prompt & prompt);
    seq_handle                  resumed(seq_handle h, size_t n_keep, const sequence_params & params,
                                        const chat_prompt & prompt);
    void                        slots_make_except(int32_t n, entry_it except);
    void                        evict(entry_it e);          // POOL -> RAM / DISK / nowhere
    void                        place_spilled(entry_it e, std::vector<uint8_t> && bytes);
    void                        ram_to_disk(entry_it e);
    bool                        disk_write(entry_it e, const std::vector<uint8_t> & bytes);
    void                        drop(entry_it e);
    entry_it                    lru(entry_place place, entry_it except);
    void                        disk_index_load();
    void                        stats_publish();

    session &                 s_;
    prefix_cache_params       params_;
    uint64_t                  fingerprint_ = 0;  // model and KV layout: disk files of others are not ours
    std::list<entry>          entries_;
    uint64_t                  clock_ = 0;
    prefix_cache_stats        counts_;           // counters (this thread)
    mutable std::mutex        stats_mu_;
    prefix_cache_stats        published_;
};

}  // namespace muse
