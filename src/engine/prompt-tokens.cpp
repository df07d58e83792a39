#include "engine/prompt-tokens.h"

#include "engine/error.h"
#include "engine/model.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace muse {

std::shared_ptr<mtmd_input_chunks> prompt_chunks(const model & mdl, const chat_prompt & prompt,
                                                 const std::vector<media> & media_list) {
    mtmd_context * proj = mdl.projector();
    if (!proj) throw input_error("the prompt has images or audio but no projector is loaded; start with --mmproj FILE");
    std::vector<const mtmd_bitmap *> bitmaps;
    for (const auto & md : media_list) bitmaps.push_back(md.bitmap());
    std::shared_ptr<mtmd_input_chunks> chunks(mtmd_input_chunks_init(), mtmd_input_chunks_free);
    mtmd_input_text text;
    text.text          = prompt.text().c_str();
    text.text_len      = prompt.text().size();
    text.add_special   = true;
    text.parse_special = true;
    const int32_t rc = mtmd_tokenize(proj, chunks.get(), &text, bitmaps.data(), bitmaps.size());
    if (rc == 1) {
        throw input_error("the number of images/audio clips (" + std::to_string(media_list.size()) +
                          ") does not match the media placeholders in the prompt");
    }
    if (rc != 0) throw input_error("encoding the images/audio failed (mtmd_tokenize code " + std::to_string(rc) + ")");
    return chunks;
}

int32_t prompt_token_count(const model & mdl, const chat_prompt & prompt, const std::vector<media> & media_list) {
    if (media_list.empty()) return (int32_t) mdl.tokenize(prompt.text()).size();
    return (int32_t) mtmd_helper_get_n_tokens(prompt_chunks(mdl, prompt, media_list).get());
}

}  // namespace muse
