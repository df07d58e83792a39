#include "agent/mcp/sse-parser.h"

namespace muse::agent {

bool mcp_sse_parser::feed(std::string_view bytes, const std::function<void(const mcp_sse_event &)> & on_event) {
    for (char c : bytes) {
        // Lines end in "\n", "\r" or "\r\n".
        if (after_cr_) {
            after_cr_ = false;
            if (c == '\n') {
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            after_cr_ = c == '\r';
            line_take(line_, on_event);
            line_.clear();
            continue;
        }
        line_.push_back(c);
        if (line_.size() + event_.data.size() > cap_) {
            return false;
        }
    }
    return true;
}

void mcp_sse_parser::line_take(std::string_view line, const std::function<void(const mcp_sse_event &)> & on_event) {
    if (line.empty()) {  // a blank line ends the event
        if (has_data_) {
            on_event(event_);
        }
        event_    = mcp_sse_event();
        has_data_ = false;
        return;
    }
    if (line.front() == ':') {
        return;  // a comment (keep-alive)
    }
    size_t           colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) {
            event_.data.push_back('\n');
        }
        event_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        event_.type = std::string(value);
    } else if (field == "id") {
        event_.id = std::string(value);
    }
    // "retry" and unknown fields: nothing we use.
}

}  // namespace muse::agent
