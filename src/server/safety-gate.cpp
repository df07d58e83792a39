#include "server/safety-gate.h"

#include "agent/verdict-audit.h"
#include "extract/ocr.h"
#include "server/data-routes.h"
#include "server/wire-util.h"

#include <chrono>
#include <cstdio>

namespace muse::server {

using json = nlohmann::json;

namespace {

std::string message_text(const chat_message & m) {
    if (m.parts.empty()) return m.content;
    std::string text;
    for (const auto & p : m.parts) {
        if (p.type != CHAT_PART_TYPE_TEXT) continue;
        if (!text.empty()) text += "\n";
        text += p.text;
    }
    return text;
}

// The text in the request's images (tesseract), so that instructions hidden in a picture meet
// the same checks as typed ones. A picture that cannot be read adds nothing: the model's own
// media checks refuse what is not an image.
std::string images_text(const agent::image_set & images) {
    constexpr int32_t max_images = 8;
    std::string       text;
    const auto        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int32_t n = 1; n <= std::min(images.size(), max_images); ++n) {
        const auto img = images.get(n);
        if (!img || !img->bytes) continue;
        try {
            extract::ocr_options opt;
            opt.deadline             = deadline;
            const extract::ocr_result r = extract::ocr_read(extract::picture_decode(*img->bytes, 16'777'216), std::nullopt, opt);
            if (!r.text.empty()) text += "\n" + r.text;
        } catch (const std::exception &) {
        }
    }
    return text;
}

}  // namespace

std::vector<safety::guard_turn> safety_turns(const chat_call & call) {
    std::vector<safety::guard_turn> turns;
    for (const auto & m : call.request.messages) {
        if (m.role != "user" && m.role != "assistant") continue;
        std::string text = message_text(m);
        if (text.empty()) continue;
        turns.push_back({ m.role, std::move(text) });
    }
    return turns;
}

void safety_audit(server_state & st, const caller & who, const safety::verdict & v, safety::check_point point,
                  const std::string & route, const std::string & content) {
    if (v.action == safety::POLICY_ACTION_ALLOW && v.category.empty()) return;
    const store::audit_event e = agent::verdict_audit_event(who.id, v, point, route);
    try {
        st.db.audit_record(e, content);
    } catch (const std::exception & ex) {
        // The verdict stands; a store that cannot take the audit row is the operator's to see.
        fprintf(stderr, "muse serve: could not audit a %s verdict: %s\n", e.kind.c_str(), ex.what());
    }
}

safety::verdict safety_input_check(server_state & st, const caller & who, const chat_call & call, const std::string & route) {
    if (!st.safety || !st.safety->policy_of().check_input) return {};
    auto turns = safety_turns(call);
    // The request's own last user turn is what is judged; the turns before it are its context.
    std::string last;
    for (auto it = call.request.messages.rbegin(); it != call.request.messages.rend(); ++it) {
        if (it->role == "user") {
            last = message_text(*it);
            break;
        }
    }
    if (!turns.empty() && turns.back().role == "user") turns.pop_back();
    if (call.images && call.images->size() > 0) last += images_text(*call.images);
    if (last.empty()) return {};
    safety::verdict v = st.safety->check(safety::CHECK_POINT_INPUT, last, turns);
    safety_audit(st, who, v, safety::CHECK_POINT_INPUT, route, last);
    return v;
}

safety::verdict safety_output_check(server_state & st, const caller & who, const std::vector<safety::guard_turn> & turns,
                                    const std::string & answer, const std::string & route) {
    if (!st.safety || !st.safety->policy_of().check_output || answer.empty()) return {};
    safety::verdict v = st.safety->check(safety::CHECK_POINT_OUTPUT, answer, turns);
    safety_audit(st, who, v, safety::CHECK_POINT_OUTPUT, route, answer);
    return v;
}

json safety_json(const server_state & st, const safety::verdict & v, safety::check_point point) {
    json j = { { "action", safety::policy_action_name(v.action) },
               { "point", safety::check_point_name(point) },
               { "category", v.category.empty() ? json(nullptr) : json(v.category) },
               { "source", v.source.empty() ? json(nullptr) : json(v.source) } };
    if (!v.rule.empty()) j["rule"] = v.rule;
    if (v.crisis) j["crisis"] = true;
    if (st.safety && !v.category.empty()) {
        if (const auto * c = st.safety->policy_of().category_find(v.category)) j["category_name"] = c->name;
    }
    return j;
}

std::string safety_reply_text(const safety::verdict & v) {
    return v.reply();
}

void safety_refusal_send(server_state & st, httplib::Response & res, wire_format wire, const safety::verdict & v,
                         bool stream, const std::string & model) {
    const std::string text = safety_reply_text(v);
    const json        info = safety_json(st, v, safety::CHECK_POINT_INPUT);
    if (wire == WIRE_FORMAT_ANTHROPIC) {
        const std::string id    = id_make("msg_");
        const json        usage = { { "input_tokens", 0 }, { "cache_creation_input_tokens", 0 },
                                    { "cache_read_input_tokens", 0 }, { "output_tokens", 0 } };
        if (!stream) {
            json out = { { "id", id }, { "type", "message" }, { "role", "assistant" }, { "model", model },
                         { "content", json::array({ { { "type", "text" }, { "text", text } } }) },
                         { "stop_reason", "refusal" }, { "stop_sequence", nullptr }, { "usage", usage },
                         { "muse", { { "safety", info } } } };
            res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
            return;
        }
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink & sink) {
            bool ok = sse_write(sink, { { "type", "message_start" },
                                        { "message", { { "id", id }, { "type", "message" }, { "role", "assistant" },
                                                       { "model", model }, { "content", json::array() },
                                                       { "stop_reason", nullptr }, { "stop_sequence", nullptr },
                                                       { "usage", usage } } } }, "message_start");
            ok = ok && sse_write(sink, { { "type", "content_block_start" }, { "index", 0 },
                                         { "content_block", { { "type", "text" }, { "text", "" } } } }, "content_block_start");
            ok = ok && sse_write(sink, { { "type", "content_block_delta" }, { "index", 0 },
                                         { "delta", { { "type", "text_delta" }, { "text", text } } } }, "content_block_delta");
            ok = ok && sse_write(sink, { { "type", "content_block_stop" }, { "index", 0 } }, "content_block_stop");
            ok = ok && sse_write(sink, { { "type", "message_delta" },
                                         { "delta", { { "stop_reason", "refusal" }, { "stop_sequence", nullptr } } },
                                         { "usage", usage }, { "muse", { { "safety", info } } } }, "message_delta");
            ok = ok && sse_write(sink, { { "type", "message_stop" } }, "message_stop");
            sink.done();
            return ok;
        });
        return;
    }
    const std::string id      = id_make("chatcmpl-");
    const int64_t     created = unix_now();
    json message = { { "role", "assistant" }, { "content", text }, { "refusal", v.crisis ? json(nullptr) : json(text) } };
    const json usage = { { "prompt_tokens", 0 }, { "completion_tokens", 0 }, { "total_tokens", 0 } };
    if (!stream) {
        json out = { { "id", id }, { "object", "chat.completion" }, { "created", created }, { "model", model },
                     { "choices", json::array({ { { "index", 0 }, { "message", message }, { "finish_reason", "content_filter" },
                                                   { "logprobs", nullptr } } }) },
                     { "usage", usage }, { "muse", { { "safety", info } } } };
        res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink & sink) {
        auto chunk = [&](json delta, json finish) {
            return json{ { "id", id }, { "object", "chat.completion.chunk" }, { "created", created }, { "model", model },
                         { "choices", json::array({ { { "index", 0 }, { "delta", std::move(delta) }, { "logprobs", nullptr },
                                                       { "finish_reason", std::move(finish) } } }) } };
        };
        bool ok = sse_write(sink, chunk({ { "role", "assistant" }, { "content", "" } }, nullptr));
        ok      = ok && sse_write(sink, chunk({ { "content", text } }, nullptr));
        json last    = chunk(json::object(), "content_filter");
        last["muse"] = { { "safety", info } };
        ok           = ok && sse_write(sink, last);
        const std::string done = "data: [DONE]\n\n";
        ok = ok && sink.write(done.data(), done.size());
        sink.done();
        return ok;
    });
}

void safety_refusal_send_responses(server_state & st, httplib::Response & res, const safety::verdict & v, bool stream,
                                   json skeleton) {
    const std::string text = safety_reply_text(v);
    const json item = { { "id", id_make("msg_") }, { "type", "message" }, { "role", "assistant" }, { "status", "completed" },
                        { "content", json::array({ { { "type", "refusal" }, { "refusal", text } } }) } };
    json done = skeleton;
    done["status"] = "completed";
    done["output"] = json::array({ item });
    done["usage"]  = { { "input_tokens", 0 }, { "output_tokens", 0 }, { "total_tokens", 0 } };
    done["muse"]   = { { "safety", safety_json(st, v, safety::CHECK_POINT_INPUT) } };
    if (!stream) {
        res.set_content(done.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink & sink) {
        int  seq = 0;
        bool ok  = true;
        auto ev  = [&](const char * type, json data) {
            data["type"]            = type;
            data["sequence_number"] = seq++;
            ok = ok && sse_write(sink, data, type);
        };
        json open       = item;
        open["status"]  = "in_progress";
        open["content"] = json::array();
        ev("response.created", { { "response", skeleton } });
        ev("response.output_item.added", { { "output_index", 0 }, { "item", open } });
        ev("response.content_part.added", { { "item_id", item["id"] }, { "output_index", 0 }, { "content_index", 0 },
                                            { "part", { { "type", "refusal" }, { "refusal", "" } } } });
        ev("response.refusal.delta", { { "item_id", item["id"] }, { "output_index", 0 }, { "content_index", 0 }, { "delta", text } });
        ev("response.refusal.done", { { "item_id", item["id"] }, { "output_index", 0 }, { "content_index", 0 }, { "refusal", text } });
        ev("response.content_part.done", { { "item_id", item["id"] }, { "output_index", 0 }, { "content_index", 0 },
                                           { "part", item["content"][0] } });
        ev("response.output_item.done", { { "output_index", 0 }, { "item", item } });
        ev("response.completed", { { "response", done } });
        sink.done();
        return ok;
    });
}

safety_stream::safety_stream(server_state & st, const caller & who, std::vector<safety::guard_turn> turns, std::string route)
    : st_(st), who_(who), route_(std::move(route)) {
    if (st.safety && st.safety->policy_of().check_output) {
        checker_ = std::make_unique<safety::stream_checker>(*st.safety, std::move(turns));
    }
}

safety_stream::~safety_stream() = default;

safety::verdict safety_stream::push(const std::string & text) {
    if (!checker_ || text.empty()) return {};
    seen_ += text;
    safety::verdict v = checker_->push(text);
    if (v.blocked()) {
        safety_audit(st_, who_, v, safety::CHECK_POINT_OUTPUT, route_, seen_);
        checker_.reset();  // stopped: nothing more is checked or audited
    }
    return v;
}

safety::verdict safety_stream::finish() {
    if (!checker_) return {};
    safety::verdict v = checker_->finish();
    safety_audit(st_, who_, v, safety::CHECK_POINT_OUTPUT, route_, seen_);
    checker_.reset();
    return v;
}

}  // namespace muse::server
