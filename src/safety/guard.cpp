#include "safety/guard.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "engine/backend.h"
#include "engine/chat-prompt.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/text-trim.h"

namespace muse::safety {

namespace {

bool role_is_agent(const std::string & role) {
    return role == "assistant" || role == "agent";
}

std::vector<const policy_category *> guarded_categories(const policy & p) {
    std::vector<const policy_category *> out;
    for (const auto & c : p.categories) {
        if (c.action != POLICY_ACTION_ALLOW)
            out.push_back(&c);
    }
    if (out.empty()) {  // a guard that may say nothing is no guard: ask about every category
        for (const auto & c : p.categories)
            out.push_back(&c);
    }
    return out;
}

std::string lower(std::string s) {
    for (char & c : s)
        c = (char)std::tolower((unsigned char)c);
    return s;
}

// Llama Guard 3's templates build the guard prompt themselves from a plain conversation; ours
// would be wrapped a second time. These render one user message as the model's family does.
const char * const plain_llama3_template =
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";
const char * const plain_llama4_template =
    "{{- bos_token }}{%- for message in messages %}{{- '<|header_start|>' + message['role'] + "
    "'<|header_end|>\\n\\n' + message['content'] + '<|eot|>' }}{%- endfor %}{%- if add_generation_prompt %}"
    "{{- '<|header_start|>assistant<|header_end|>\\n\\n' }}{%- endif %}";

}  // namespace

std::string guard_prompt(const std::vector<guard_turn> & conversation, const policy & p) {
    const bool        agent = !conversation.empty() && role_is_agent(conversation.back().role);
    const std::string who   = agent ? "Agent" : "User";
    std::string       s;
    s += "Task: Check if there is unsafe content in '" + who +
         "' messages in conversations according our safety policy with the below categories.\n\n";
    s += "<BEGIN UNSAFE CONTENT CATEGORIES>\n";
    for (const auto * c : guarded_categories(p))
        s += c->id + ": " + c->name + ".\n";
    s += "<END UNSAFE CONTENT CATEGORIES>\n\n";
    s += "<BEGIN CONVERSATION>\n\n";
    for (const auto & t : conversation) {
        s += (role_is_agent(t.role) ? "Agent: " : "User: ") + t.content + "\n\n";
    }
    s += "<END CONVERSATION>\n\n";
    s += "Provide your safety assessment for ONLY THE LAST " + who + " message in the above conversation:\n";
    s += " - First line must read 'safe' or 'unsafe'.\n";
    s += " - If unsafe, a second line must include a comma-separated list of violated categories.";
    return s;
}

std::string guard_grammar(const policy & p) {
    std::string cats;
    for (const auto * c : guarded_categories(p))
        cats += (cats.empty() ? "\"" : " | \"") + c->id + "\"";
    return "root ::= \"safe\" | \"unsafe\\n\" cat (\",\" cat (\",\" cat)?)?\ncat ::= " + cats + "\n";
}

guard_verdict guard_parse(const std::string & text) {
    guard_verdict     v;
    const std::string t     = trim(text);
    const size_t      nl    = t.find_first_of("\r\n");
    const std::string first = lower(trim(t.substr(0, nl)));
    const std::string rest  = nl == std::string::npos ? "" : trim(t.substr(nl));
    if (first == "safe") {
        v.parsed = rest.empty();
        return v;
    }
    // "unsafe S1" on one line is read too.
    std::string list = rest;
    if (first.rfind("unsafe", 0) == 0 && first.size() > 6 && std::isspace((unsigned char)first[6])) {
        list = t.substr(6, nl == std::string::npos ? std::string::npos : nl - 6) + " " + rest;
    } else if (first != "unsafe") {
        return v;
    }
    v.safe = false;
    std::string cur;
    const auto  flush = [&]() {
        if (cur.empty())
            return true;
        std::string id = cur;
        id[0]          = (char)std::toupper((unsigned char)id[0]);
        cur.clear();
        if (!category_id_valid(id))
            return false;
        if (std::find(v.categories.begin(), v.categories.end(), id) == v.categories.end())
            v.categories.push_back(id);
        return true;
    };
    for (char c : list) {
        if (c == ',' || std::isspace((unsigned char)c)) {
            if (!flush())
                return guard_verdict {};
        } else {
            cur += c;
        }
    }
    if (!flush())
        return guard_verdict {};
    v.parsed = true;
    return v;
}

struct guard_model::impl {
    std::string              path;
    std::unique_ptr<model>   mdl;
    std::unique_ptr<session> ses;
    std::mutex               mutex;
    std::string              last_text;
};

guard_model::guard_model(backend & be, const std::string & path, int n_threads) : impl_(std::make_unique<impl>()) {
    impl_->path = path;
    model_params mp;
    mp.path                  = path;
    mp.n_threads             = n_threads;
    impl_->mdl               = std::make_unique<model>(be, mp);
    const std::string & tmpl = impl_->mdl->info().chat_template;
    if (tmpl.find("BEGIN UNSAFE CONTENT CATEGORIES") != std::string::npos) {
        const char * plain =
            tmpl.find("<|header_start|>") != std::string::npos ? plain_llama4_template : plain_llama3_template;
        impl_->mdl.reset();
        mp.chat_template = plain;
        impl_->mdl       = std::make_unique<model>(be, mp);
    }
    context_params cp;
    cp.n_ctx     = std::min<int32_t>(4096, std::max<int32_t>(impl_->mdl->info().n_ctx_train, 256));
    cp.n_seq_max = 1;
    cp.n_batch   = 512;
    cp.n_threads = n_threads;
    try {
        impl_->ses = std::make_unique<session>(*impl_->mdl, cp);
    } catch (const std::exception & e) {
        throw input_error(path + ": the guard model loaded but its context could not be made (" + e.what() +
                          "); free memory or use a smaller guard model");
    }
}

guard_model::~guard_model() = default;

const std::string & guard_model::path() const {
    return impl_->path;
}

std::string guard_model::last_text() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->last_text;
}

guard_verdict guard_model::judge(const std::vector<guard_turn> & conversation, const policy & p) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    model &                     mdl   = *impl_->mdl;
    session &                   ses   = *impl_->ses;
    const int                   limit = ses.n_ctx_seq() - guard_max_tokens - 8;

    // Earlier turns go first when the prompt does not fit; then the middle of the last turn.
    std::vector<guard_turn> turns = conversation;
    chat_prompt             prompt;
    for (int attempt = 0;; ++attempt) {
        chat_request req;
        req.messages.push_back({ "user", guard_prompt(turns, p), {}, "", {}, "", "" });
        req.grammar         = p.guard_grammar.empty() ? guard_grammar(p) : p.guard_grammar;
        req.enable_thinking = false;
        prompt              = chat_format(mdl, req, mdl.media_marker());
        const int n         = (int)mdl.tokenize(prompt.text()).size();
        if (n <= limit || attempt > 16)
            break;
        if (turns.size() > 1) {
            turns.erase(turns.begin());
            continue;
        }
        if (turns.empty())
            break;
        std::string & c    = turns.back().content;
        const size_t  keep = (size_t)((double)c.size() * std::max(0.1, (double)limit / n * 0.9));
        if (keep >= c.size() || keep < 16) {
            c = c.substr(0, std::min(c.size(), (size_t)16));
            continue;
        }
        c = c.substr(0, keep / 2) + "\n[...]\n" + c.substr(c.size() - keep / 2);
    }

    sequence_params sp;
    sp.sampling.temperature = 0.0f;
    sp.sampling.seed        = 1;
    sp.max_tokens           = guard_max_tokens;
    const seq_handle h      = ses.sequence_add(prompt, {}, sp);
    ses.run(h, [](const token_event &) {});
    impl_->last_text = ses.sequence(h).text;
    ses.sequence_release(h);
    return guard_parse(impl_->last_text);
}

}  // namespace muse::safety
