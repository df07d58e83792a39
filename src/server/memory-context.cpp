#include "server/memory-context.h"

#include "agent/memory-prompt.h"
#include "server/agent-run.h"
#include "store/database.h"

namespace muse::server {

using json = nlohmann::json;

json memory_context_apply(server_state & st, const caller & who, chat_call & call, const json & body) {
    json used = json::array();
    if (body.is_object() && body.contains("muse") && body["muse"].is_object()) {
        const json & m = body["muse"];
        if (m.contains("memory") && m["memory"].is_boolean() && !m["memory"].get<bool>()) return used;
    }
    for (const auto & m : agent::memory_prompt_apply(st.db, who.id, call.request, agent_embed_fn(st))) {
        used.push_back({ { "id", m.id }, { "text", m.text } });
    }
    return used;
}

std::string memory_used_header(const json & used) {
    std::string out;
    for (const auto & u : used) out += (out.empty() ? "" : ",") + u.value("id", "");
    return out;
}

}  // namespace muse::server
