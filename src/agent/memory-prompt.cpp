#include "agent/memory-prompt.h"

#include "store/database.h"

#include <ctime>

namespace muse::agent {

namespace {

std::string message_text(const chat_message & m) {
    if (m.parts.empty()) return m.content;
    std::string out;
    for (const auto & p : m.parts) {
        if (p.type == CHAT_PART_TYPE_TEXT) out += (out.empty() ? "" : "\n") + p.text;
    }
    return out;
}

std::string day_of(int64_t unix_secs) {
    char buf[16];
    const std::time_t t = (std::time_t) unix_secs;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace

std::vector<store::memory_item> memory_prompt_apply(store::database & db, int64_t user_id, chat_request & request,
                                                    const embed_fn & embed, const memory_budget & budget) {
    if (!db.memory_enabled(user_id)) return {};
    auto & msgs = request.messages;
    std::string query;
    for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
        if (it->role == "user") {
            query = message_text(*it);
            break;
        }
    }
    std::vector<float> qv;
    if (embed && !query.empty()) {
        try {
            qv = embed({ query.substr(0, 4000) }).at(0);
        } catch (const std::exception &) {
            // A query over the embedding model's context: ranked by words instead.
        }
    }
    auto items = db.memory_relevant(user_id, query, qv, budget.max_items, budget.max_bytes);
    if (items.empty()) return items;
    std::string block =
        "What you remember about the user (saved from earlier conversations; use it when it helps, do not recite it; "
        "the user sees which items were used and can delete them):";
    for (const auto & m : items) block += "\n- " + m.text + " (" + day_of(m.created_at) + ")";
    if (!msgs.empty() && (msgs[0].role == "system" || msgs[0].role == "developer")) {
        if (msgs[0].parts.empty()) {
            msgs[0].content += (msgs[0].content.empty() ? "" : "\n\n") + block;
        } else {
            msgs[0].parts.push_back({ CHAT_PART_TYPE_TEXT, "\n\n" + block, 0 });
        }
    } else {
        chat_message sys;
        sys.role    = "system";
        sys.content = block;
        msgs.insert(msgs.begin(), std::move(sys));
    }
    return items;
}

}  // namespace muse::agent
