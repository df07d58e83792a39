#include "server/chat-run.h"

#include "engine/error.h"
#include "engine/model.h"
#include "engine/prompt-tokens.h"

#include <set>

namespace muse::server {

using json = nlohmann::json;

static http_error template_refused(const input_error & e, const chat_call & call, const std::string & messages_param) {
    return http_error(422, e.what(), call.request.tools.empty() ? messages_param : "tools", "template_refused");
}

chat_prompt chat_call_render(server_state & st, const chat_call & call, const std::string & messages_param) {
    try {
        return chat_format(st.mdl, call.request, st.mdl.media_marker());
    } catch (const input_error & e) {
        throw template_refused(e, call, messages_param);
    }
}

int32_t chat_call_prompt_tokens(server_state & st, const chat_call & call, const std::string & messages_param) {
    const chat_prompt prompt = chat_call_render(st, call, messages_param);
    try {
        return prompt_token_count(st.mdl, prompt, *call.media);
    } catch (const input_error & e) {
        throw template_refused(e, call, messages_param);
    }
}

std::shared_ptr<chat_run> chat_run_start(server_state & st, chat_call & call, const std::string & owner,
                                         const std::string & cache_tag) {
    auto run = std::make_shared<chat_run>();
    run->t0  = clock_type::now();
    run->prompt = std::make_shared<const chat_prompt>(chat_call_render(st, call));
    job_params p;
    p.prompt         = run->prompt;
    p.media          = call.media;
    p.params         = call.params;
    p.n              = call.n;
    p.timeout_secs   = call.timeout_secs;
    p.reasoning_mode = call.reasoning_mode;
    p.owner          = owner;
    p.cache_tag      = cache_tag;
    if (call.reasoning_mode) {
        p.request = call.request;
        p.reason  = call.reason;
        run->agent_tokens.assign(32, 0);
    }
    run->reasoning_mode = call.reasoning_mode;
    run->top_logprobs   = call.top_logprobs;
    run->mdl            = &st.mdl;
    run->logprobs.resize((size_t) call.n);
    for (int i = 0; i < call.n; ++i) run->choices.emplace_back(*run->prompt);
    run->j = st.sched.submit(std::move(p));
    if (auto err = run->j->wait_admitted()) throw *err;
    return run;
}

// A token's text as OpenAI writes it: the text and its UTF-8 bytes (a token may hold part of
// a character; the bytes are what joins up).
static json token_json(const model & mdl, int32_t token, float logprob) {
    const std::string & text  = mdl.token_text(token);
    json              bytes = json::array();
    for (unsigned char b : text) bytes.push_back((int) b);
    return { { "token", text }, { "logprob", logprob }, { "bytes", std::move(bytes) } };
}

static json logprob_entry(const model & mdl, const job_event & ev, int top_n) {
    json entry = token_json(mdl, ev.token, ev.logprob);
    json top   = json::array();
    for (size_t k = 0; k < ev.top_logprobs.size() && (int) k < top_n; ++k) {
        top.push_back(token_json(mdl, ev.top_logprobs[k].first, ev.top_logprobs[k].second));
    }
    entry["top_logprobs"] = std::move(top);
    return entry;
}

bool chat_run_pump(chat_run & run, const chat_run_sink & sink, std::chrono::milliseconds wait) {
    std::vector<job_event> events;
    const bool more = run.j->events_take(events, wait);
    std::set<int> touched;
    for (const auto & ev : events) {
        if (ev.kind == job_event::PROGRESS) {
            if (ev.choice < 0 || ev.choice >= (int) run.agent_tokens.size()) continue;
            const int n = ++run.agent_tokens[(size_t) ev.choice];
            if (sink.progress && (n % 16 == 0 || ev.finished)) sink.progress(ev.choice, n, ev.in_reasoning, ev.finished);
            continue;
        }
        auto & c = run.choices[(size_t) ev.choice];
        if (c.finished) continue;
        c.push(ev.text);
        if (run.top_logprobs >= 0 && ev.token >= 0) {
            run.logprobs[(size_t) ev.choice].push_back(logprob_entry(*run.mdl, ev, run.top_logprobs));
        }
        if (ev.finished) {
            c.finished = true;
            c.reason   = ev.reason;
        }
        touched.insert(ev.choice);
    }
    for (int i : touched) {
        auto d = run.choices[(size_t) i].take();
        if (sink.delta && !d.empty()) sink.delta(i, d);
    }
    return more;
}

void chat_run_finish(server_state & st, chat_run & run) {
    const job & j = *run.j;
    if (j.failure) throw *j.failure;
    const double secs = std::chrono::duration<double>(clock_type::now() - run.t0).count();
    const int    gen  = chat_run_completion_tokens(run);
    const double gen_secs = secs - j.ttft_secs;
    st.stats.generation_count(j.prompt_tokens, gen, j.ttft_secs, gen_secs > 0 ? gen / gen_secs : 0);
}

json chat_run_logprobs_take(chat_run & run, size_t i) {
    if (run.top_logprobs < 0) return nullptr;
    json content = json::array();
    content.get_ref<json::array_t &>().swap(run.logprobs[i]);  // taken: the choice's list is empty again
    return { { "content", std::move(content) }, { "refusal", nullptr } };
}

int chat_run_completion_tokens(const chat_run & run) {
    if (run.reasoning_mode) return run.j->reason_result.reasoning_tokens + run.j->reason_result.answer_tokens;
    int n = 0;
    for (int g : run.j->generated) n += g;
    return n;
}

int chat_run_reasoning_tokens(chat_run & run) {
    if (run.reasoning_mode) return run.j->reason_result.reasoning_tokens;
    int n = 0;
    for (auto & c : run.choices) n += c.reasoning_tokens();
    return n;
}

json reason_result_json(const reason::reason_result & r, reason::reason_mode mode) {
    json agents = json::array();
    for (const auto & a : r.agents) {
        agents.push_back({ { "index", a.index },
                           { "role", a.role },
                           { "status", reason::agent_status_name(a.status) },
                           { "seed", a.seed },
                           { "temperature", a.temperature },
                           { "reasoning_tokens", a.reasoning_tokens },
                           { "answer_tokens", a.answer_tokens },
                           { "mean_confidence", a.mean_confidence },
                           { "lowest_confidence", a.lowest_confidence },
                           { "answer", a.extracted.value },
                           { "stopped_early", a.stopped_early },
                           { "kept", a.kept } });
    }
    json out = { { "mode", reason::reason_mode_name(mode) },
                 { "agents", agents },
                 { "agreement", r.agreement },
                 { "prompt_tokens", r.prompt_tokens },
                 { "ttft_seconds", r.ttft_secs },
                 { "wall_seconds", r.wall_secs } };
    if (!r.plan.empty()) out["plan"] = r.plan;
    return out;
}

}  // namespace muse::server
