#pragma once
// The HTTP server's front door: a cap on open connections (one over it gets a fast 503 and
// is closed, never queued behind the others), a deadline for each request head (slowloris),
// a minimum rate for each body, and a byte cap on heads and bodies (chunked ones too), all
// enforced in the connection's own stream, so no thread waits on a client past its deadline.
// cpp-httplib 0.11.4 reads a request with a 5 s timeout per read and no deadline, and keeps
// queued connections behind busy threads; this subclass replaces its per-connection loop.
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace muse::server {

struct connection_limits {
    int      max_connections     = 256;        // open at once; one more gets 503
    double   header_timeout_secs = 10;         // accept (or the previous response) to the end of the head
    double   body_min_rate       = 16 * 1024;  // bytes/s a body must keep up after header_timeout_secs of grace
    uint64_t max_head_bytes      = 64 * 1024;  // request line + headers; over: 414 (the line) or 431
    uint64_t max_body_bytes      = 32u << 20;  // the bytes after the head (chunk framing included); over: 413
};

// What GET /metrics shows about connections (muse_connections_*).
struct connection_stats {
    uint64_t open             = 0;  // admitted and not yet closed
    uint64_t refused          = 0;  // over max_connections: answered 503
    uint64_t header_deadline  = 0;  // closed (408) for a head not complete in time
    uint64_t body_deadline    = 0;  // closed (408) for a body slower than the minimum rate
    uint64_t head_too_large   = 0;  // 414 / 431
    uint64_t body_too_large   = 0;  // 413 from the stream (a chunked body, or one that outgrew its length)
};

// The JSON body of a refusal the guard writes itself: (the request path when known, status,
// message, code) -> the wire format's error body (api-server.cpp's error_body).
using refusal_body_fn = std::function<std::string(const std::string & path, int status, const std::string & message,
                                                  const std::string & code)>;

class guarded_server : public httplib::Server {
  public:
    guarded_server(const connection_limits & limits, refusal_body_fn body_of);
    ~guarded_server() override;

    connection_stats stats() const;

    // httplib's, then a listen backlog that fits the cap: httplib's own is 5, so a burst of
    // connections would wait in SYN retries instead of being accepted (and refused) at once.
    bool bind_to_port(const std::string & host, int port);
    int  bind_to_any_port(const std::string & host);

  private:
    bool process_and_close_socket(socket_t sock) override;
    void backlog_raise();

    struct counters {
        std::atomic<uint64_t> open{ 0 }, refused{ 0 }, header_deadline{ 0 }, body_deadline{ 0 }, head_too_large{ 0 },
            body_too_large{ 0 };
    };

    const connection_limits limits_;
    const refusal_body_fn   body_of_;
    counters                n_;
};

}  // namespace muse::server
