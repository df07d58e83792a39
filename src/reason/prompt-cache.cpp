#include "reason/prompt-cache.h"

#include "engine/error.h"
#include "reason/prompt-fork.h"

namespace muse::reason {

prompt_cache::~prompt_cache() {
    try {
        clear();
    } catch (...) {
        // the session is going away with its cells
    }
}

seq_handle prompt_cache::sequence_add(const chat_prompt & prompt, const std::vector<media> & media,
                                      const sequence_params & params) {
    if (kept_ >= 0) {
        try {
            return fork_for_prompt(s_, kept_, prompt, media, params);
        } catch (const runtime_error &) {
            clear();  // the shared part left the sliding window: decode it all again
        }
    }
    return s_.sequence_add(prompt, media, params);
}

void prompt_cache::keep(seq_handle seq) {
    clear();  // first: its slot is the new one's; `seq` holds every cell it shared
    kept_ = s_.sequence_fork_prefix(seq, s_.sequence(seq).n_past, sequence_params{}, nullptr);
}

void prompt_cache::clear() {
    if (kept_ < 0) return;
    const seq_handle old = kept_;
    kept_                = -1;
    s_.sequence_cancel(old);
    s_.sequence_release(old);
}

}  // namespace muse::reason
