#include "engine/sampling-params.h"

#include "chat-prompt-impl.h"
#include "common.h"
#include "engine/error.h"
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace muse {

void sampling_params::validate() const {
    const auto bad = [](const char * field, const std::string & why) {
        throw input_error(std::string("sampling: ") + field + " " + why);
    };
    if (!std::isfinite(temperature) || temperature < 0.0f || temperature > 5.0f) bad("temperature", "must be between 0 and 5");
    if (top_k < 0) bad("top_k", "must be 0 (off) or more");
    if (!(top_p > 0.0f && top_p <= 1.0f)) bad("top_p", "must be in (0, 1]");
    if (!(min_p >= 0.0f && min_p <= 1.0f)) bad("min_p", "must be in [0, 1]");
    if (!(repeat_penalty > 0.0f && repeat_penalty <= 10.0f)) bad("repeat_penalty", "must be in (0, 10]");
    if (repeat_last_n < -1) bad("repeat_last_n", "must be -1 (whole context), 0 (off) or more");
    if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) bad("presence_penalty", "must be in [-2, 2]");
    if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) bad("frequency_penalty", "must be in [-2, 2]");
}

static std::vector<llama_token> tokenize_special(const llama_vocab * vocab, const std::string & text) {
    return common_tokenize(vocab, text, false, true);
}

int32_t sampling_shortcut::argmax(float * logits, int32_t n_vocab) const {
    for (int32_t t : masked) {
        logits[t] = -INFINITY;
    }
    // Strictly greater: the first of equal logits wins, as in llama.cpp's temperature-0 path.
    int32_t best = 0;
    for (int32_t t = 1; t < n_vocab; ++t) {
        if (logits[t] > logits[best]) best = t;
    }
    return best;
}

int32_t sampling_shortcut::sample_top_k(common_sampler * chain, float * logits, int32_t n_vocab,
                                        const ranked_logits * before_masks) const {
    for (int32_t t : masked) {
        logits[t] = -INFINITY;
    }
    // Masks only lower logits (to -inf): if the k best kept theirs, nothing overtook them.
    bool reuse = before_masks && before_masks->size() >= (size_t) std::min(top_k, n_vocab);
    for (size_t i = 0; reuse && i < (size_t) std::min(top_k, n_vocab); ++i) {
        const auto & [l, t] = (*before_masks)[i];
        reuse               = logits[t] == l;
    }
    ranked_logits fresh;
    if (!reuse) {
        fresh = top_logits(logits, n_vocab, top_k);
    }
    const ranked_logits & top = reuse ? *before_masks : fresh;
    const size_t          n   = std::min(top.size(), (size_t) std::max(top_k, 0));  // the ranking may hold more
    std::vector<llama_token_data> cur(n);
    for (size_t i = 0; i < n; ++i) {
        cur[i] = { top[i].second, top[i].first, 0.0f };
    }
    llama_token_data_array arr = { cur.data(), cur.size(), -1, true };
    llama_sampler_apply(common_sampler_get(chain), &arr);
    if (arr.selected < 0 || (size_t) arr.selected >= arr.size) {
        throw runtime_error("the sampler chain selected no token");
    }
    return arr.data[arr.selected].id;
}

sampler_ptr sampler_make(const llama_model * mdl, const sampling_params & sp, const chat_prompt * prompt,
                         std::set<int32_t> * preserved_tokens, sampling_shortcut * shortcut) {
    sp.validate();
    const llama_vocab *    vocab = llama_model_get_vocab(mdl);
    common_params_sampling cp;
    cp.seed            = sp.seed;
    cp.temp            = sp.temperature;
    cp.top_k           = sp.top_k;
    cp.top_p           = sp.top_p;
    cp.min_p           = sp.min_p;
    cp.penalty_repeat  = sp.repeat_penalty;
    cp.penalty_last_n  = sp.repeat_last_n;
    cp.penalty_present = sp.presence_penalty;
    cp.penalty_freq    = sp.frequency_penalty;
    cp.no_perf         = true;

    if (prompt) {
        const auto & p = prompt->get();
        if (!p.grammar.empty()) {
            cp.grammar           = common_grammar(p.grammar_type, p.grammar);
            cp.generation_prompt = p.params.generation_prompt;
            if (p.grammar_type == COMMON_GRAMMAR_TYPE_TOOL_CALLS) {
                cp.grammar_lazy     = p.params.grammar_lazy;
                cp.grammar_triggers = p.params.grammar_triggers;
            }
        }
        for (const auto & t : p.params.preserved_tokens) {
            auto ids = tokenize_special(vocab, t);
            if (ids.size() == 1) {
                cp.preserved_tokens.insert(ids[0]);
            }
        }
        for (auto & trigger : cp.grammar_triggers) {
            if (trigger.type == COMMON_GRAMMAR_TRIGGER_TYPE_WORD) {
                auto ids = tokenize_special(vocab, trigger.value);
                if (ids.size() == 1) {
                    trigger.type  = COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN;
                    trigger.token = ids[0];
                }
            }
        }
        if (!p.think_start.empty() && !p.think_end.empty()) {
            cp.reasoning_budget_tokens = p.think_budget;
            cp.reasoning_budget_start  = tokenize_special(vocab, p.think_start);
            for (const auto & tag : p.think_end) {
                cp.reasoning_budget_end.push_back(tokenize_special(vocab, tag));
            }
            cp.reasoning_budget_forced = tokenize_special(vocab, p.think_forced);
            // The budget is for reasoning the model generates. A prompt that already holds
            // reasoning (a continued message) must not spend it: the budget sampler would
            // count those tokens, and consume later ones as if they were the forced end.
            std::string gen    = p.params.generation_prompt;
            const size_t start = gen.rfind(p.think_start);
            if (start != std::string::npos && p.grammar.empty()) {
                gen.resize(start + p.think_start.size());
            }
            cp.generation_prompt = gen;
        }
        if (preserved_tokens) {
            preserved_tokens->insert(cp.preserved_tokens.begin(), cp.preserved_tokens.end());
        }
    }
    if (sp.ignore_eos && cp.grammar.empty()) {
        // Benchmarks ask for exactly max_tokens: every end-of-generation token is masked. Not
        // under a grammar, whose only way out once complete is the end of generation.
        const int32_t n_vocab = llama_vocab_n_tokens(vocab);
        for (int32_t t = 0; t < n_vocab; ++t) {
            if (llama_vocab_is_eog(vocab, t)) cp.logit_bias.push_back({ t, -INFINITY });
        }
    }
    if (shortcut) {
        // Whatever top-k / top-p / min-p keep, the most likely token survives them; penalties,
        // a grammar or a reasoning budget change which token that is, so they take the chain.
        // Top-k first: the steps before it in llama-common's default order (penalties, DRY,
        // top-n-sigma) must be ones that do nothing.
        bool biased = false;
        shortcut->masked.clear();
        for (const auto & b : cp.logit_bias) {
            if (b.bias == -INFINITY) {
                shortcut->masked.push_back(b.token);
            } else {
                biased = true;
            }
        }
        int32_t             n_suppress = 0;
        const llama_token * suppress   = llama_vocab_get_suppress_tokens(vocab, &n_suppress);
        shortcut->masked.insert(shortcut->masked.end(), suppress, suppress + n_suppress);
        const bool budget = !cp.reasoning_budget_start.empty() && cp.reasoning_budget_tokens >= 0;
        const bool plain  = cp.grammar.empty() && !budget && !biased && cp.penalty_repeat == 1.0f &&
                           cp.penalty_freq == 0.0f && cp.penalty_present == 0.0f && cp.dry_multiplier == 0.0f &&
                           cp.mirostat == 0 && !cp.reasoning_control && !cp.backend_sampling;
        shortcut->how   = sampling_shortcut::kind::chain;
        shortcut->top_k = 0;
        if (plain && cp.temp <= 0.0f) {
            shortcut->how = sampling_shortcut::kind::argmax;
        } else if (plain && cp.top_k > 0 && cp.top_k <= 1024 && cp.top_n_sigma <= 0.0f &&
                   cp.samplers == common_params_sampling().samplers) {
            shortcut->how   = sampling_shortcut::kind::top_k;
            shortcut->top_k = cp.top_k;
        }
    }
    // llama-common leaks its sampler chain when a grammar fails to parse (the sanitizer build
    // found it): check user and schema grammars on their own first.
    if (!cp.grammar.empty() && !cp.grammar_lazy) {
        llama_sampler * check = llama_sampler_init_grammar(vocab, cp.grammar.grammar.c_str(), "root");
        if (!check) {
            throw input_error("the grammar does not parse; check the GBNF (llama.cpp's grammars/README.md documents it)");
        }
        llama_sampler_free(check);
    }
    sampler_ptr s;
    try {
        s.reset(common_sampler_init(mdl, cp));
    } catch (const std::exception &) {
        s.reset();
    }
    if (!s) {
        throw input_error("the grammar does not parse; check the GBNF (llama.cpp's grammars/README.md documents it)");
    }
    return s;
}

}  // namespace muse
