#pragma once
// A real HTTP server on 127.0.0.1 for the download tests (Debian's cpp-httplib), serving a few MiB
// of deterministic bytes the way file hosts and Hugging Face do, and misbehaving on purpose.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace muse::test {

// 3 MiB and a bit, byte i = bits 13..20 of i * 2654435761 (mod 2^32).
inline std::string pull_body_make() {
    std::string body(3 * 1024 * 1024 + 12345, '\0');
    for (size_t i = 0; i < body.size(); i++) {
        body[i] = (char)((((uint32_t)i * 2654435761u) >> 13) & 0xff);
    }
    return body;
}

// sha256 of pull_body_make(), computed outside muse (Python's hashlib).
inline const char * pull_body_sha256 = "1a0890dc1decb3e8024d4938352598736fb0fb1a758b00e88683e2b090ad1c4e";

struct serve_options {
    std::string sha;   // sent as X-Linked-ETag when set
    std::string etag;  // sent as ETag when set
    bool        ignore_range   = false;
    size_t      drop_after     = 0;            // close the connection after this many bytes of a response (0: never)
    int         drops          = 0;            // how many responses drop; -1: all
    int         chunk_delay_ms = 0;            // pause between 32 KiB chunks
    std::function<void(size_t sent)> on_sent;  // called after each chunk with the bytes sent in this response
};

class loopback_server {
  public:
    loopback_server() : body_(pull_body_make()) {
        port_ = server_.bind_to_any_port("127.0.0.1");
        // The socket listens from here on; requests wait in the backlog until the thread accepts them.
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        // stop() before the thread runs would be lost and join() would hang: wait until it listens.
        for (int i = 0; i < 5000 && !server_.is_running(); i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    ~loopback_server() {
        server_.stop();
        thread_.join();
    }

    std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

    const std::string & body() const { return body_; }

    httplib::Server & http() { return server_; }

    // Serves the body at `path` with Range support and the given misbehaviour.
    void file_add(const std::string & path, serve_options o) {
        auto drops_left = std::make_shared<std::atomic<int>>(o.drops);
        server_.Get(path, [this, o, drops_left](const httplib::Request & req, httplib::Response & res) {
            file_serve(req, res, o, *drops_left);
        });
    }

    // Every request's path and Range header ("" when none), in order.
    std::vector<std::pair<std::string, std::string>> requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }

    std::vector<std::string> ranges_for(const std::string & path) {
        std::vector<std::string> out;
        for (const auto & [p, range] : requests()) {
            if (p == path) {
                out.push_back(range);
            }
        }
        return out;
    }

    void request_record(const httplib::Request & req) {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.emplace_back(req.method == "HEAD" ? "HEAD " + req.path : req.path, req.get_header_value("Range"));
    }

  private:
    httplib::Server                                  server_;
    std::string                                      body_;
    int                                              port_ = 0;
    std::thread                                      thread_;
    std::mutex                                       mutex_;
    std::vector<std::pair<std::string, std::string>> requests_;

    void file_serve(const httplib::Request & req, httplib::Response & res, const serve_options & o,
                    std::atomic<int> & drops_left) {
        request_record(req);
        // httplib 0.11 cuts every body to the request's Range itself and has no 416; the test answers
        // Range by hand to control 200/206/416 exactly, so it drops the ranges httplib parsed.
        const_cast<httplib::Request &>(req).ranges.clear();
        const size_t      n     = body_.size();
        const std::string range = req.get_header_value("Range");
        size_t            from  = 0;
        res.status              = 200;
        if (!o.ignore_range && range.rfind("bytes=", 0) == 0) {
            from = std::strtoull(range.c_str() + 6, nullptr, 10);
            if (from >= n) {
                res.status = 416;
                res.set_header("Content-Range", "bytes */" + std::to_string(n));
                return;
            }
            res.status = 206;
            res.set_header("Content-Range",
                           "bytes " + std::to_string(from) + "-" + std::to_string(n - 1) + "/" + std::to_string(n));
        }
        res.set_header("Accept-Ranges", "bytes");
        if (!o.sha.empty()) {
            res.set_header("X-Linked-ETag", "\"" + o.sha + "\"");
        }
        if (!o.etag.empty()) {
            res.set_header("ETag", o.etag);
        }
        bool drop = false;
        if (o.drop_after > 0 && req.method != "HEAD") {
            drop = o.drops < 0 || drops_left.fetch_sub(1) > 0;
        }
        const size_t cut = drop ? o.drop_after : SIZE_MAX;
        res.set_content_provider(n - from, "application/octet-stream",
                                 [this, o, from, cut](size_t off, size_t length, httplib::DataSink & sink) {
                                     if (off >= cut) {
                                         return false;  // the connection closes mid-file
                                     }
                                     const size_t len = std::min({ length, size_t(32 * 1024), cut - off });
                                     sink.write(body_.data() + from + off, len);
                                     if (o.on_sent) {
                                         o.on_sent(off + len);
                                     }
                                     if (o.chunk_delay_ms > 0) {
                                         std::this_thread::sleep_for(std::chrono::milliseconds(o.chunk_delay_ms));
                                     }
                                     return true;
                                 });
    }
};

}  // namespace muse::test
