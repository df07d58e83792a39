#pragma once
// The server-side tools by the names operators enable and requests ask for.
#include <string>
#include <vector>

namespace muse::agent {

// python (the sandboxed interpreter), artifacts (create/update_artifact), spawn_agent, mcp
// (every tool of the operator's MCP servers), vision (read_text, crop_zoom, visual_grounding),
// web (open_url, find_in_page, web_search), file_search (the user's files and conversations)
// and memory (remember, forget).
inline const std::vector<std::string> & tool_set_names() {
    static const std::vector<std::string> names = { "python", "artifacts", "spawn_agent", "mcp",
                                                    "vision", "web", "file_search", "memory" };
    return names;
}

// The names above as one comma-separated line, for messages.
inline std::string tool_set_names_text() {
    std::string out;
    for (const auto & n : tool_set_names()) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// True when every comma-separated item of `list` is one of tool_set_names().
inline bool tool_set_list(const std::string & list, std::vector<std::string> * out = nullptr) {
    std::vector<std::string> items;
    size_t                   start = 0;
    while (start <= list.size()) {
        const size_t end  = list.find(',', start);
        std::string  item = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
        bool known = false;
        for (const auto & n : tool_set_names()) known = known || n == item;
        if (!known) return false;
        items.push_back(item);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    if (out) *out = items;
    return !items.empty();
}

}  // namespace muse::agent
