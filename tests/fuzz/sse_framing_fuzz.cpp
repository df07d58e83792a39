// Fuzz target: the MCP Streamable HTTP transport's server-sent events reader. The same bytes
// are fed whole and in random chunks (as the network cuts them: inside "\r\n", inside a field
// name); both must give the same events and the same verdict on the cap, and no event may
// hold more than the cap.
#include "agent/mcp/sse-parser.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <vector>

using namespace muse::agent;

struct fed {
    std::vector<mcp_sse_event> events;
    bool                       ok = true;
};

static bool same(const std::vector<mcp_sse_event> & a, const std::vector<mcp_sse_event> & b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id) return false;
    }
    return true;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FuzzedDataProvider in(data, size);
    const size_t       cap     = in.ConsumeIntegralInRange<size_t>(1, 4096);
    const size_t       n_cuts  = in.ConsumeIntegralInRange<size_t>(0, 32);
    std::vector<size_t> cuts;
    for (size_t i = 0; i < n_cuts; ++i) cuts.push_back(in.ConsumeIntegralInRange<size_t>(0, 64));
    const std::string stream = in.ConsumeRemainingBytesAsString();

    fed whole;
    {
        mcp_sse_parser p(cap);
        whole.ok = p.feed(stream, [&](const mcp_sse_event & e) { whole.events.push_back(e); });
    }
    fed chunked;
    {
        mcp_sse_parser p(cap);
        size_t         at = 0;
        for (size_t i = 0; at < stream.size() && chunked.ok; ++i) {
            const size_t n = i < cuts.size() ? cuts[i] : stream.size() - at;
            chunked.ok     = p.feed(std::string_view(stream).substr(at, n),
                                    [&](const mcp_sse_event & e) { chunked.events.push_back(e); });
            at += std::min(n, stream.size() - at);
        }
    }
    if (whole.ok != chunked.ok) abort();
    // After the cap is hit the chunked feed stops at its chunk's end: compare the events both saw.
    if (whole.ok && !same(whole.events, chunked.events)) abort();
    if (!whole.ok && chunked.events.size() > whole.events.size()) abort();
    for (const mcp_sse_event & e : whole.events) {
        if (e.data.size() > cap + 1) abort();
    }
    return 0;
}
