#include "reason/prompt-fork.h"

namespace muse::reason {

chat_request request_with_suffix(const chat_request & request, const std::string & suffix) {
    chat_request out = request;
    out.continue_final = false;
    if (!out.messages.empty() && out.messages.back().role == "user") {
        auto & last = out.messages.back();
        if (last.parts.empty()) {
            last.content += suffix;
        } else {
            last.parts.push_back({ CHAT_PART_TYPE_TEXT, suffix, 0 });
        }
    } else {
        chat_message msg;
        msg.role    = "user";
        msg.content = suffix;
        out.messages.push_back(msg);
    }
    return out;
}

seq_handle fork_for_prompt(session & s, seq_handle root, const chat_prompt & prompt, const std::vector<media> & media,
                           const sequence_params & params) {
    const auto & have = s.sequence_kv_tokens(root);
    bool         has_media = false;
    for (int32_t t : have) {
        has_media = has_media || t < 0;
    }
    if (has_media) {
        // The root holds media: the new prompt's text tokens cannot match the image
        // positions, so the new prompt is decoded afresh with its media.
        return s.sequence_add(prompt, media, params);
    }
    const auto want = s.get_model().tokenize(prompt.text());
    size_t     lcp  = 0;
    while (lcp < have.size() && lcp < want.size() && have[lcp] == want[lcp]) lcp++;
    if (lcp == want.size() && lcp > 0) {
        lcp--;  // at least one token must be decoded to have logits to sample from
    }
    seq_handle child = s.sequence_fork_prefix(root, (int32_t) lcp, params, &prompt);
    try {
        s.sequence_append_tokens(child, std::vector<int32_t>(want.begin() + (std::ptrdiff_t) lcp, want.end()));
    } catch (...) {
        s.sequence_cancel(child);  // e.g. the prompt overflows the context: the child goes, its slot too
        s.sequence_release(child);
        throw;
    }
    return child;
}

}  // namespace muse::reason
