#include "train/examples.h"

#include "engine/model.h"

#include <nlohmann/json.hpp>

namespace muse::train {

namespace {

// The model's end of turn as the template writes it after an assistant message, which
// continue_final leaves off: what stands between an assistant message and the next user
// message, less the user turn's own opening ("<|im_end|>\n" for Qwen3).
std::string turn_end(const model & mdl, const chat_request & request) {
    const chat_message mark_a { "assistant", "\x01", {}, "", {}, "", "" };
    const chat_message mark_u { "user", "\x02", {}, "", {}, "", "" };
    chat_request       two = request;
    two.messages.push_back(mark_a);
    two.messages.push_back(mark_u);
    const std::string text    = chat_format(mdl, two, mdl.media_marker()).text();
    const size_t      a       = text.find('\x01'), b = text.find('\x02');
    const std::string between = text.substr(a + 1, b - a - 1);
    chat_request      one;
    one.messages.push_back(mark_u);
    const std::string user    = chat_format(mdl, one, mdl.media_marker()).text();
    const std::string opening = user.substr(0, user.find('\x02'));
    if (between.size() >= opening.size() && between.ends_with(opening)) {
        return between.substr(0, between.size() - opening.size());
    }
    return between;
}

}  // namespace

example_style example_style_draw(const task_item & item, double instant_share, std::mt19937_64 & rng) {
    if (item.kind == TASK_KIND_PRODUCT) return EXAMPLE_STYLE_THINKING;
    return std::uniform_real_distribution<double>(0, 1)(rng) < instant_share ? EXAMPLE_STYLE_INSTANT
                                                                             : EXAMPLE_STYLE_THINKING;
}

chat_request example_request(const task_item & item, example_style style, const chat_tool & python) {
    chat_request r;
    r.messages.push_back({ "user", item.question, {}, "", {}, "", "" });
    r.enable_thinking = style == EXAMPLE_STYLE_THINKING;
    if (item.kind == TASK_KIND_PRODUCT) r.tools.push_back(python);
    return r;
}

example_writer::example_writer(const model & mdl, chat_tool python) : mdl_(mdl), python_(std::move(python)) {}

std::string example_writer::text(const task_item & item, example_style style) {
    const model &     mdl    = mdl_;
    const chat_tool & python = python_;
    chat_request      r      = example_request(item, style, python);
    const auto        key    = std::make_pair(r.enable_thinking, !r.tools.empty());
    auto              at     = ends_.find(key);
    if (at == ends_.end()) at = ends_.emplace(key, turn_end(mdl, r)).first;
    const std::string & end = at->second;
    std::string         text;
    if (item.kind == TASK_KIND_PRODUCT) {
        chat_message call;
        call.role      = "assistant";
        call.reasoning = style == EXAMPLE_STYLE_THINKING ? "big product: use python" : "";
        call.tool_calls.push_back({ "call_1", "python", nlohmann::json { { "code", item.tool_code } }.dump() });
        chat_message result;
        result.role         = "tool";
        result.tool_call_id = "call_1";
        result.tool_name    = "python";
        result.content      = item.answer + "\n";  // what the python tool returns for print()
        r.messages.push_back(call);
        r.messages.push_back(result);
    }
    chat_message answer;
    answer.role      = "assistant";
    answer.content   = item.answer;
    answer.reasoning = style == EXAMPLE_STYLE_THINKING && item.kind != TASK_KIND_PRODUCT ? item.reasoning : "";
    r.messages.push_back(answer);
    r.continue_final = true;
    text = chat_format(mdl, r, mdl.media_marker()).text();
    return text + end;
}

}  // namespace muse::train
