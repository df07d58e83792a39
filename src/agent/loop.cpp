#include "agent/loop.h"

#include "agent/image-set.h"
#include "agent/text-cap.h"
#include "engine/error.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace muse::agent {

using json       = nlohmann::json;
using clock_type = std::chrono::steady_clock;

const char * call_outcome_name(call_outcome o) {
    switch (o) {
        case CALL_OUTCOME_OK:            return "ok";
        case CALL_OUTCOME_TOOL_ERROR:    return "tool_error";
        case CALL_OUTCOME_BAD_ARGUMENTS: return "bad_arguments";
        case CALL_OUTCOME_UNKNOWN_TOOL:  return "unknown_tool";
        case CALL_OUTCOME_TIMEOUT:       return "timeout";
        case CALL_OUTCOME_CANCELLED:     return "cancelled";
        case CALL_OUTCOME_FAILED:        return "failed";
        case CALL_OUTCOME_REFUSED:       return "refused";
    }
    return "?";
}

const char * loop_stop_name(loop_stop s) {
    switch (s) {
        case LOOP_STOP_ANSWER:       return "answer";
        case LOOP_STOP_CLIENT_CALLS: return "client_tool_calls";
        case LOOP_STOP_MAX_STEPS:    return "max_steps";
        case LOOP_STOP_TOKEN_BUDGET: return "token_budget";
        case LOOP_STOP_TIME_BUDGET:  return "time_budget";
        case LOOP_STOP_LENGTH:       return "length";
        case LOOP_STOP_CANCELLED:    return "cancelled";
    }
    return "?";
}

std::string call_result_text(const call_record & r, size_t max_chars) {
    std::string text = r.result.text;
    if (r.outcome != CALL_OUTCOME_OK && r.outcome != CALL_OUTCOME_TOOL_ERROR) {
        text = std::string("error (") + call_outcome_name(r.outcome) + "): " + text;
    }
    for (const auto & img : r.result.images) {
        text += "\n[image" + (img.number > 0 ? " " + std::to_string(img.number) : std::string()) + ": " + img.name +
                " (" + img.mime + ")]";
    }
    if (!r.result.files.empty()) {
        text += "\n[files in /mnt/data:";
        for (const auto & f : r.result.files) text += " " + f.path + " (" + std::to_string(f.bytes) + " bytes)";
        text += "]";
    }
    if (text.empty()) text = "(no output)";
    return text_cap(text, max_chars);
}

namespace {

// One running call. Shared with its thread: a call that outlives its timeout is abandoned
// (told to stop, its result dropped) and the thread finishes on its own.
struct call_slot {
    std::mutex              mu;
    std::condition_variable cv;
    bool                    done = false;
    tool_result             result;
    call_outcome            outcome = CALL_OUTCOME_OK;
    std::atomic<bool>       stop{ false };
};

std::string tool_names(const std::vector<tool_ptr> & tools) {
    std::string s;
    for (const auto & t : tools) s += (s.empty() ? "" : ", ") + t->definition().name;
    return s;
}

void strings_cap(json & schema, int n) {
    if (schema.is_array()) {
        for (auto & x : schema) strings_cap(x, n);
        return;
    }
    if (!schema.is_object()) return;
    // The operator's bound is an upper bound: a tool's own smaller maxLength stays.
    if (schema.value("type", json()) == "string" && !schema.contains("enum") &&
        (!schema.contains("maxLength") || !schema["maxLength"].is_number_integer() || schema["maxLength"].get<int64_t>() > n)) {
        schema["maxLength"] = n;
    }
    for (auto & [k, v] : schema.items()) {
        if (k != "enum" && k != "const" && k != "default") strings_cap(v, n);
    }
}

}  // namespace

loop_outcome loop_run(chat_request request, const loop_params & params, const generate_fn & generate,
                      const loop_events & events) {
    const loop_limits & lim = params.limits;
    const auto t0       = clock_type::now();
    const auto deadline = lim.wall_secs > 0 ? t0 + std::chrono::duration_cast<clock_type::duration>(
                                                       std::chrono::duration<double>(lim.wall_secs))
                                            : clock_type::time_point::max();
    const auto cancelled = [&] { return params.cancel && params.cancel->load(); };

    // A request that must call its one tool (the wire formats' named tool_choice) forces that
    // tool in the first step, though the loop adds its own tools.
    std::string forced_tool = params.forced_tool;
    if (forced_tool.empty() && request.tool_choice == CHAT_TOOL_CHOICE_REQUIRED && request.tools.size() == 1) {
        forced_tool = request.tools[0].name;
    }
    std::map<std::string, tool_ptr> by_name;
    for (const auto & t : params.tools) {
        chat_tool def = t->definition();
        by_name[def.name] = t;
        if (lim.max_argument_chars > 0) {
            json schema = json::parse(def.parameters, nullptr, false);
            if (!schema.is_discarded()) {
                strings_cap(schema, lim.max_argument_chars);
                def.parameters = schema.dump();
            }
        }
        bool dup = false;
        for (auto & rt : request.tools) {
            if (rt.name == def.name) {
                rt  = def;
                dup = true;
            }
        }
        if (!dup) request.tools.push_back(std::move(def));
    }

    loop_outcome out;
    const int max_steps = std::max(1, lim.max_steps);
    for (int step = 0;; ++step) {
        if (cancelled()) { out.stop = LOOP_STOP_CANCELLED; break; }
        if (clock_type::now() >= deadline) { out.stop = LOOP_STOP_TIME_BUDGET; break; }
        if (lim.max_tokens > 0 && out.completion_tokens >= lim.max_tokens) { out.stop = LOOP_STOP_TOKEN_BUDGET; break; }
        if (step > 0) request.tool_choice = CHAT_TOOL_CHOICE_AUTO;
        // The last allowed step answers: no more calls.
        if (step == max_steps - 1 && !by_name.empty() && step > 0) request.tool_choice = CHAT_TOOL_CHOICE_NONE;

        chat_request step_request;
        const bool   forced = step == 0 && !forced_tool.empty();
        if (forced) {
            step_request = request;
            step_request.tools.clear();
            for (const auto & t : request.tools) {
                if (t.name == forced_tool) step_request.tools.push_back(t);
            }
            if (step_request.tools.empty()) {
                throw input_error("the forced tool '" + forced_tool + "' is not one of the tools: " + tool_names(params.tools));
            }
            step_request.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
        }
        if (events.step_started) events.step_started(step);
        step_stream stream;
        stream.text = [&](const std::string & r, const std::string & c) { if (events.text) events.text(step, r, c); };
        stream.call = [&](const call_delta & d) { if (events.call_generated) events.call_generated(step, d); };
        step_output so = generate(forced ? step_request : request, stream);
        ++out.steps;
        out.prompt_tokens += so.prompt_tokens;
        out.completion_tokens += so.completion_tokens;
        out.reasoning_tokens += so.reasoning_tokens;
        out.step_usage.push_back({ so.prompt_tokens, so.completion_tokens });
        out.last_finish = so.finish;
        out.last        = so.parsed;

        chat_message assistant;
        assistant.role       = "assistant";
        assistant.content    = so.parsed.content;
        assistant.reasoning  = so.parsed.reasoning;
        assistant.tool_calls = so.parsed.tool_calls;
        for (size_t i = 0; i < assistant.tool_calls.size(); ++i) {
            if (assistant.tool_calls[i].id.empty()) {
                assistant.tool_calls[i].id = "call_" + std::to_string(step) + "_" + std::to_string(i);
            }
        }
        // A call cut off by max_tokens has half its arguments: it is not run, and not kept.
        const bool cut_off = so.finish == FINISH_REASON_LENGTH || so.finish == FINISH_REASON_CONTEXT;
        if (cut_off) assistant.tool_calls.clear();
        out.last.tool_calls = assistant.tool_calls;
        if (events.step_finished) events.step_finished(step, out.last);
        out.messages.push_back(assistant);
        // The template renders arguments as JSON: a call whose arguments are not a JSON object
        // goes back to the model as {} (its result says what was wrong).
        chat_message rendered = assistant;
        for (auto & c : rendered.tool_calls) {
            const json a = json::parse(c.arguments, nullptr, false);
            if (a.is_discarded() || !a.is_object()) c.arguments = "{}";
        }
        request.messages.push_back(std::move(rendered));

        if (so.finish == FINISH_REASON_CANCELLED || cancelled()) { out.stop = LOOP_STOP_CANCELLED; break; }
        if (assistant.tool_calls.empty()) {
            out.stop = cut_off ? LOOP_STOP_LENGTH : LOOP_STOP_ANSWER;
            break;
        }
        // A call of a tool the caller declared (and the loop does not run) hands the turn back.
        bool client_call = false;
        for (const auto & c : assistant.tool_calls) {
            if (by_name.count(c.name)) continue;
            for (const auto & rt : request.tools) client_call = client_call || rt.name == c.name;
        }
        if (client_call) {
            out.stop          = LOOP_STOP_CLIENT_CALLS;
            out.pending_calls = assistant.tool_calls;
            break;
        }

        // Run this step's calls, at most max_parallel at once.
        const size_t n = assistant.tool_calls.size();
        std::vector<call_record> records(n);
        std::vector<std::shared_ptr<call_slot>> slots(n);
        std::vector<clock_type::time_point> started(n);
        const size_t width = (size_t) std::max(1, lim.max_parallel);
        auto         last_tick = clock_type::now();
        for (size_t first = 0; first < n; first += width) {
            const size_t last = std::min(n, first + width);
            for (size_t i = first; i < last; ++i) {
                call_record & r = records[i];
                r.step = step;
                r.call = assistant.tool_calls[i];
                slots[i] = std::make_shared<call_slot>();
                started[i] = clock_type::now();
                if (events.call_started) events.call_started(step, r.call);
                auto it = by_name.find(r.call.name);
                json args = json::parse(r.call.arguments.empty() ? std::string("{}") : r.call.arguments, nullptr, false);
                if (it == by_name.end()) {
                    r.outcome     = CALL_OUTCOME_UNKNOWN_TOOL;
                    r.result.text = "there is no tool named '" + r.call.name + "'; the tools are: " + tool_names(params.tools);
                    r.result.is_error = true;
                    slots[i]->done = true;
                    continue;
                }
                if (args.is_discarded() || !args.is_object()) {
                    r.outcome     = CALL_OUTCOME_BAD_ARGUMENTS;
                    r.result.text = "the arguments of " + r.call.name + " must be a JSON object; got: " +
                                    text_cap(r.call.arguments, 200);
                    r.result.is_error = true;
                    slots[i]->done = true;
                    continue;
                }
                if (params.call_check) {
                    if (auto refusal = params.call_check(r.call)) {
                        r.outcome         = CALL_OUTCOME_REFUSED;
                        r.result.text     = *refusal;
                        r.result.is_error = true;
                        slots[i]->done    = true;
                        continue;
                    }
                }
                tool_context ctx = params.context;
                const auto   tool_deadline = std::min(deadline, clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                                                      std::chrono::duration<double>(lim.tool_secs)));
                ctx.deadline = tool_deadline;
                auto slot    = slots[i];
                ctx.cancel   = &slot->stop;
                tool_ptr tool = it->second;
                std::thread([slot, tool, args = std::move(args), ctx]() mutable {
                    tool_result  res;
                    call_outcome oc = CALL_OUTCOME_OK;
                    try {
                        res = tool->call(args, ctx);
                        if (res.is_error) oc = CALL_OUTCOME_TOOL_ERROR;
                    } catch (const std::exception & e) {
                        res.text     = std::string("the tool failed: ") + e.what();
                        res.is_error = true;
                        oc           = CALL_OUTCOME_FAILED;
                    } catch (...) {
                        res.text     = "the tool failed";
                        res.is_error = true;
                        oc           = CALL_OUTCOME_FAILED;
                    }
                    std::lock_guard<std::mutex> lk(slot->mu);
                    slot->result  = std::move(res);
                    slot->outcome = oc;
                    slot->done    = true;
                    slot->cv.notify_all();
                }).detach();
            }
            // Wait for this group: each call until its own deadline (a grace second for the tool
            // to notice), polling the loop's cancel flag.
            for (size_t i = first; i < last; ++i) {
                auto & slot = *slots[i];
                const auto hard = std::min(deadline, started[i] + std::chrono::duration_cast<clock_type::duration>(
                                                                     std::chrono::duration<double>(lim.tool_secs))) +
                                  std::chrono::seconds(1);
                std::unique_lock<std::mutex> lk(slot.mu);
                while (!slot.done) {
                    if (events.waiting && clock_type::now() - last_tick >= std::chrono::milliseconds(250)) {
                        lk.unlock();
                        events.waiting();
                        last_tick = clock_type::now();
                        lk.lock();
                        if (slot.done) break;
                    }
                    if (cancelled()) slot.stop = true;
                    if (clock_type::now() >= hard) break;
                    slot.cv.wait_for(lk, std::chrono::milliseconds(50));
                }
                call_record & r = records[i];
                if (slot.done) {
                    if (r.outcome == CALL_OUTCOME_OK) {
                        r.result  = std::move(slot.result);
                        r.outcome = slot.outcome;
                        if (cancelled() && r.outcome != CALL_OUTCOME_OK) r.outcome = CALL_OUTCOME_CANCELLED;
                    }
                } else {
                    slot.stop     = true;  // abandoned: the thread drops what it returns
                    r.outcome     = cancelled() ? CALL_OUTCOME_CANCELLED : CALL_OUTCOME_TIMEOUT;
                    r.result.text = cancelled() ? "the call was cancelled"
                                                : r.call.name + " did not finish within " +
                                                      std::to_string((int) lim.tool_secs) + " s and was stopped";
                    r.result.is_error = true;
                }
                r.secs = std::chrono::duration<double>(clock_type::now() - started[i]).count();
            }
            // The images join the run's numbered set in call order, so a later call (crop_zoom,
            // read_text) can name them.
            for (size_t i = first; i < last; ++i) {
                if (!params.context.images) break;
                for (auto & img : records[i].result.images) img.number = params.context.images->add(img.name, img.mime, img.bytes);
            }
            for (size_t i = first; i < last; ++i) {
                if (params.result_check && records[i].outcome == CALL_OUTCOME_OK) params.result_check(records[i]);
                if (events.call_finished) events.call_finished(records[i]);
            }
        }
        chat_message seen;  // the step's images, for a model that sees
        seen.role = "user";
        if (params.image_to_media) {
            for (const auto & r : records) {
                for (const auto & img : r.result.images) {
                    if (seen.parts.size() >= params.max_images) break;
                    std::optional<size_t> idx;
                    try {
                        idx = params.image_to_media(img);
                    } catch (const std::exception &) {
                        // An image the projector cannot read stays out; the text result says it was there.
                    }
                    if (idx) seen.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", *idx });
                }
            }
        }
        for (auto & r : records) {
            chat_message m;
            m.role         = "tool";
            m.tool_call_id = r.call.id;
            m.tool_name    = r.call.name;
            m.content      = call_result_text(r, lim.max_result_chars);
            request.messages.push_back(m);
            out.messages.push_back(m);
            out.calls.push_back(std::move(r));
        }
        if (!seen.parts.empty()) {
            seen.parts.push_back({ CHAT_PART_TYPE_TEXT, "(the images the tool calls above returned)", 0 });
            request.messages.push_back(seen);
            out.messages.push_back(std::move(seen));
        }
        if (cancelled()) { out.stop = LOOP_STOP_CANCELLED; break; }
        if (step + 1 >= max_steps) { out.stop = LOOP_STOP_MAX_STEPS; break; }
    }
    return out;
}

}  // namespace muse::agent
