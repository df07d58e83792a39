#pragma once
// Server-sent events (the text/event-stream format) read incrementally: bytes in as they
// arrive, whole events out. Streamable HTTP answers a POST with such a stream when the server
// has more to say than one response (progress, requests of its own).
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace muse::agent {

struct mcp_sse_event {
    std::string type = "message";  // the "event:" field
    std::string data;              // "data:" lines joined by '\n'
    std::string id;
};

class mcp_sse_parser {
  public:
    explicit mcp_sse_parser(size_t cap) : cap_(cap) {}

    // Calls on_event for every event the bytes complete. False once a line or an event grew
    // over the cap: the stream should be dropped.
    bool feed(std::string_view bytes, const std::function<void(const mcp_sse_event &)> & on_event);

  private:
    void line_take(std::string_view line, const std::function<void(const mcp_sse_event &)> & on_event);

    size_t        cap_;
    std::string   line_;
    bool          after_cr_ = false;
    bool          has_data_ = false;
    mcp_sse_event event_;
};

}  // namespace muse::agent
