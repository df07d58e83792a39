#include "server/agent-run.h"

#include "agent/call-guard.h"
#include "agent/contemplate-loops.h"
#include "agent/tool-names.h"
#include "agent/tools/crop-zoom.h"
#include "agent/tools/memory-tools.h"
#include "agent/tools/read-text.h"
#include "agent/tools/spawn-agent.h"
#include "agent/tools/visual-grounding.h"
#include "engine/embedder.h"
#include "server/chat-run.h"
#include "engine/model.h"
#include "server/http-error.h"
#include "server/safety-gate.h"

#include <sodium.h>

#include <algorithm>
#include <mutex>

namespace muse::server {

using json = nlohmann::json;

namespace {

// Artifacts in the store, scoped by the call's user and workspace.
class store_artifacts final : public agent::artifact_store {
  public:
    explicit store_artifacts(store::database & db) : db_(db) {}

    std::optional<agent::artifact> put(const agent::tool_context & ctx, const std::string & id, const std::string & title,
                                       agent::artifact_type type, const std::string & content) override {
        auto r = db_.artifact_put(ctx.user_id, ctx.conversation_id, id, title, agent::artifact_type_name(type), content);
        if (!r) return std::nullopt;
        return to_artifact(*r);
    }
    std::optional<agent::artifact> latest(const agent::tool_context & ctx, const std::string & id) override {
        auto r = db_.artifact_get(ctx.user_id, id);
        if (!r || r->workspace != ctx.conversation_id) return std::nullopt;
        return to_artifact(*r);
    }

  private:
    static agent::artifact to_artifact(const store::artifact_record & r) {
        return { r.id, r.version, r.title, agent::artifact_type_parse(r.type).value_or(agent::ARTIFACT_TYPE_HTML), r.content };
    }
    store::database & db_;
};

std::string hex_digest(const std::string & text) {
    unsigned char out[32];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char *>(text.data()), text.size(), nullptr, 0);
    static const char * digits = "0123456789abcdef";
    std::string         hex;
    for (unsigned char b : out) {
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return hex;
}

// visual_grounding's model call: the image and the prompt as one user message, the answer
// held to the schema, run as a job like any step (so it batches with the other requests).
agent::vision_fn agent_vision(server_state & st, const std::shared_ptr<agent_scope> & scope) {
    return [&st, scope](const agent::image_entry & img, const std::string & prompt, const json & schema,
                        const agent::tool_context &) {
        chat_call sub;
        sub.params.max_tokens          = 1024;
        sub.params.sampling.temperature = 0;
        sub.timeout_secs               = st.cfg.limits.timeout_secs;
        std::vector<uint8_t> bytes(img.bytes->begin(), img.bytes->end());
        sub.media->push_back(media::from_bytes(st.mdl.projector(), std::move(bytes), "image " + std::to_string(img.number),
                                               st.cfg.limits.media));
        const chat_request r = agent::grounding_request(prompt, schema);
        auto out = agent_generate(st, sub, scope)(r, {});
        return out.parsed.content;
    };
}

}  // namespace

std::shared_ptr<agent::artifact_store> artifact_store_in(store::database & db) {
    return std::make_shared<store_artifacts>(db);
}

agent::embed_fn agent_embed_fn(server_state & st) {
    if (!st.embed) return nullptr;
    embedder * e = st.embed;
    return [e](const std::vector<std::string> & texts) { return e->embed(texts); };
}

server_limits agent_parse_limits(const server_state & st, const std::vector<std::string> & names) {
    server_limits l = st.cfg.limits;
    l.images_for_tools = std::find(names.begin(), names.end(), "vision") != names.end();
    return l;
}

void agent_tools_add_to_body(json & body, const std::vector<agent::tool_ptr> & tools) {
    if (tools.empty()) return;
    if (!body.contains("tools") || !body["tools"].is_array()) body["tools"] = json::array();
    for (const auto & t : tools) {
        const chat_tool d = t->definition();
        body["tools"].push_back({ { "type", "function" },
                                  { "function", { { "name", d.name }, { "description", d.description },
                                                  { "parameters", json::parse(d.parameters) } } } });
    }
}

agent::generate_fn agent_generate(server_state & st, const chat_call & base, const std::shared_ptr<agent_scope> & scope,
                                  agent::step_output * usage_sum) {
    return [&st, base, scope, usage_sum](const chat_request & request, const agent::step_stream & stream) {
        chat_call call    = base;
        call.request      = request;
        call.n            = 1;
        call.reasoning_mode = false;
        auto run = chat_run_start(st, call, std::to_string(scope->who.id), scope->workspace);
        chat_run_sink sink;
        sink.delta = [&](int, const choice_tracker::delta & d) {
            if (stream.text && (!d.reasoning.empty() || !d.content.empty())) stream.text(d.reasoning, d.content);
            for (const auto & tc : d.tool_calls) {
                if (stream.call) stream.call(tc);
            }
        };
        while (chat_run_pump(*run, sink, std::chrono::milliseconds(100))) {
            if (scope->cancel) run->j->cancel();
        }
        chat_run_finish(st, *run);
        agent::step_output out;
        out.parsed            = run->choices[0].final_parse();
        out.finish            = run->choices[0].reason;
        out.prompt_tokens     = run->j->prompt_tokens;
        out.completion_tokens = chat_run_completion_tokens(*run);
        out.reasoning_tokens  = chat_run_reasoning_tokens(*run);
        if (usage_sum) {
            usage_sum->prompt_tokens += out.prompt_tokens;
            usage_sum->completion_tokens += out.completion_tokens;
        }
        return out;
    };
}

std::vector<agent::tool_ptr> agent_tools_select(server_state & st, const std::shared_ptr<agent_scope> & scope,
                                                const std::vector<std::string> & names, const std::string & param) {
    const agent_config &         cfg = st.cfg.agent;
    std::vector<agent::tool_ptr> tools;
    std::set<std::string>        seen;
    for (const auto & name : names) {
        if (!seen.insert(name).second) continue;
        if (!agent::tool_set_list(name)) {
            throw http_error(400, "unknown server-side tool '" + name + "' (" + agent::tool_set_names_text() + ")", param);
        }
        if (!cfg.tools.count(name)) {
            throw http_error(400, "the server-side tool '" + name + "' is not enabled on this server; its operator starts "
                                  "muse serve with --tools " + name + (name == "mcp" ? " and --mcp FILE" : name == "web" ? " (or --web)" : ""),
                             param, "tool_not_enabled");
        }
        if (name == "python" && cfg.python) tools.push_back(cfg.python);
        if (name == "artifacts") {
            auto store = artifact_store_in(st.db);
            tools.push_back(agent::create_artifact_tool(store));
            tools.push_back(agent::update_artifact_tool(store));
        }
        if (name == "mcp") tools.insert(tools.end(), cfg.mcp_tools.begin(), cfg.mcp_tools.end());
        if (name == "web") tools.insert(tools.end(), cfg.web_tools.begin(), cfg.web_tools.end());
        if (name == "vision") {
            const agent::image_count_fn count = [scope] { return scope->images ? scope->images->size() : 0; };
            agent::read_text_options ro;
            ro.image_count = count;
            tools.push_back(agent::read_text_tool(ro));
            agent::crop_zoom_options co;
            co.image_count = count;
            tools.push_back(agent::crop_zoom_tool(co));
            if (st.mdl.projector()) {
                agent::visual_grounding_options vo;
                vo.image_count = count;
                vo.family = st.mdl.info().arch.rfind("qwen", 0) == 0 ? "qwen" : "generic";
                tools.push_back(agent::visual_grounding_tool(agent_vision(st, scope), vo));
            }
        }
        if (name == "file_search") tools.push_back(agent::file_search_tool(st.db, agent_embed_fn(st)));
        if (name == "memory") {
            tools.push_back(agent::remember_tool(st.db, agent_embed_fn(st)));
            tools.push_back(agent::forget_tool(st.db));
        }
        if (name == "spawn_agent") {
            chat_call sub;
            sub.params.max_tokens = cfg.subagent_max_tokens;
            sub.timeout_secs      = st.cfg.limits.timeout_secs;
            // Each sub-agent is its own job: they run batched with each other and everything else.
            tools.push_back(agent::spawn_agent_tool(
                [&st, sub, scope](const reason::subtask & task, const agent::tool_context &) {
                    auto gen = agent_generate(st, sub, scope);
                    auto out = gen(agent::subagent_request(task), {});
                    return out.parsed.content.empty() ? out.parsed.reasoning : out.parsed.content;
                }));
        }
    }
    return tools;
}

agent::loop_params agent_loop_params(server_state & st, const std::shared_ptr<agent_scope> & scope,
                                     std::vector<agent::tool_ptr> tools) {
    agent::loop_params p;
    p.tools                    = std::move(tools);
    p.limits                   = st.cfg.agent.limits;
    p.context.user_id          = scope->who.id;
    p.context.conversation_id  = scope->workspace;
    p.context.work_dir         = st.db.workspace_dir(scope->who.id, scope->workspace);
    p.cancel                   = &scope->cancel;
    if (st.safety) {
        // Tool arguments, artifacts and tool output meet the policy; every verdict is audited.
        server_state * state = &st;
        const caller   who   = scope->who;
        agent::call_guard_install(p, *st.safety, [state, who](const agent::call_verdict & v) {
            safety_audit(*state, who, v.verdict, v.point, "tool:" + v.tool, v.content);
        });
    }
    return p;
}

agent::loop_outcome agent_contemplate(server_state & st, const chat_call & call, const agent::loop_params & params,
                                      const std::shared_ptr<agent_scope> & scope, const agent::loop_events & ev,
                                      nlohmann::json & extra) {
    auto mu = std::make_shared<std::mutex>();
    const int   n      = call.reason.agents;
    const float spread = call.reason.temperature_spread;
    auto gen_for = [&](int i) {
        chat_call c       = call;
        c.reasoning_mode  = false;
        c.params.sampling.seed += (uint32_t) i;
        const float off   = n > 1 ? spread * ((float) i / (float) (n - 1) - 0.5f) : 0.0f;
        c.params.sampling.temperature = std::max(0.0f, c.params.sampling.temperature + off);
        return agent_generate(st, c, scope);
    };
    auto events_for = [&](int i) {
        agent::loop_events e;
        e.call_started = [&ev, mu, i](int step, const chat_tool_call & c) {
            std::lock_guard<std::mutex> lk(*mu);
            if (ev.call_started) ev.call_started(step + 1000 * i, c);
        };
        e.call_finished = [&ev, mu, i](const agent::call_record & r) {
            std::lock_guard<std::mutex> lk(*mu);
            agent::call_record tagged = r;
            tagged.step += 1000 * i;  // agent i's steps: 1000 i + step
            if (ev.call_finished) ev.call_finished(tagged);
        };
        return e;
    };
    auto co  = agent::contemplate_loops(call.request, params, n, gen_for, events_for, call.reason.answer);
    json ags = json::array();
    for (size_t i = 0; i < co.agents.size(); ++i) {
        ags.push_back({ { "index", i }, { "stop", agent::loop_stop_name(co.agents[i].stop) }, { "steps", co.agents[i].steps },
                        { "tool_calls", co.agents[i].calls.size() }, { "answer", co.answers[i].value },
                        { "completion_tokens", co.agents[i].completion_tokens } });
    }
    extra = { { "mode", "contemplate" }, { "agreement", co.agreement }, { "winner", co.winner }, { "agents", ags } };
    agent::loop_outcome o = co.agents[co.winner];
    for (size_t i = 0; i < co.agents.size(); ++i) {
        if (i == co.winner) continue;
        o.completion_tokens += co.agents[i].completion_tokens;
        o.prompt_tokens += co.agents[i].prompt_tokens;
    }
    return o;
}

void agent_images_to_media(server_state & st, agent::loop_params & params, const chat_call & call) {
    if (!st.mdl.projector()) return;
    // The loop's steps run one at a time and each step's job has ended before the next image is
    // added, so the call's media vector (which every step's job shares) grows between jobs only.
    auto         media  = call.media;
    const model & mdl   = st.mdl;
    const auto   limits = st.cfg.limits.media;
    params.image_to_media = [media, &mdl, limits](const agent::tool_image & img) -> std::optional<size_t> {
        std::vector<uint8_t> bytes(img.bytes.begin(), img.bytes.end());
        media->push_back(muse::media::from_bytes(mdl.projector(), std::move(bytes), "the image " + img.name + " a tool returned", limits));
        return media->size() - 1;
    };
}

void agent_audit(server_state & st, const agent_scope & scope, const agent::call_record & r) {
    json detail = { { "workspace", scope.workspace },
                    { "tool", r.call.name },
                    { "arguments_digest", hex_digest(r.call.arguments) },
                    { "arguments_bytes", r.call.arguments.size() },
                    { "duration_ms", (int64_t) (r.secs * 1000) },
                    { "outcome", agent::call_outcome_name(r.outcome) } };
    store::audit_event e;
    e.user_id = scope.who.id;
    e.kind    = "tool_call";
    e.point   = "tool_arguments";
    e.route   = "tool:" + r.call.name;
    if (r.outcome == agent::CALL_OUTCOME_REFUSED) e.verdict_action = "block";
    e.detail = detail.dump();
    try {
        // The digest is of the arguments; they are kept only when the operator turned content on.
        st.db.audit_record(e, r.call.arguments.empty() ? std::string("{}") : r.call.arguments);
    } catch (const std::exception &) {
        // The call happened; a store failure here must not fail the user's request.
    }
}

json agent_step_usage_json(const agent::loop_outcome & o) {
    json steps = json::array();
    for (const auto & u : o.step_usage) steps.push_back({ { "prompt_tokens", u.prompt }, { "completion_tokens", u.completion } });
    return steps;
}

json agent_call_json(const agent::call_record & r) {
    json images = json::array();
    for (const auto & img : r.result.images) {
        images.push_back({ { "name", img.name }, { "mime_type", img.mime }, { "data", base64_encode(img.bytes) } });
    }
    json files = json::array();
    for (const auto & f : r.result.files) files.push_back({ { "path", f.path }, { "bytes", f.bytes } });
    return { { "id", r.call.id },
             { "name", r.call.name },
             { "arguments", r.call.arguments },
             { "outcome", agent::call_outcome_name(r.outcome) },
             { "output", r.result.text },
             { "images", std::move(images) },
             { "files", std::move(files) },
             { "detail", r.result.detail },
             { "duration_ms", (int64_t) (r.secs * 1000) } };
}

}  // namespace muse::server
