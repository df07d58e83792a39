#include "server/connection-guard.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace muse::server {

namespace {

using clock_type = std::chrono::steady_clock;

// Threads beyond the connection cap: they answer the connections over it (a 503 each), so
// that a refusal never waits for a thread that a slow client holds.
constexpr size_t pool_spare_threads = 16;
// How long a refused connection is read (and the bytes dropped) after its answer, so that
// closing it does not reset the connection before the client has read the answer.
constexpr int      linger_ms_over_cap = 250;
constexpr int      linger_ms_refusal  = 2000;
constexpr uint64_t linger_max_bytes   = 64u << 20;
// Waits are cut into slices so that stop() is noticed promptly.
constexpr int poll_slice_ms = 200;

int poll_one(socket_t sock, short events, int timeout_ms) {
    pollfd p{ sock, events, 0 };
    for (;;) {
        const int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

int ms_until(clock_type::time_point t) {
    const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - clock_type::now()).count();
    return (int) std::clamp<int64_t>(d, 0, poll_slice_ms);
}

void send_all(socket_t sock, const std::string & s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(sock, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += (size_t) n;
    }
}

// Half-closes, then reads and drops what the client still sends, until it closes, a time
// limit or a byte limit.
void linger_drain(socket_t sock, int ms, uint64_t max_bytes) {
    ::shutdown(sock, SHUT_WR);
    const auto until = clock_type::now() + std::chrono::milliseconds(ms);
    char       buf[16384];
    uint64_t   total = 0;
    while (total < max_bytes && clock_type::now() < until) {
        const int r = poll_one(sock, POLLIN, ms_until(until));
        if (r < 0) return;
        if (r == 0) continue;
        const ssize_t n = ::recv(sock, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return;
        total += (uint64_t) n;
    }
}

const char * status_text(int status) {
    switch (status) {
        case 408: return "Request Timeout";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default:  return "Error";
    }
}

std::string refusal_response(int status, const std::string & body) {
    std::string s = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n";
    if (status == 503) s += "Retry-After: 1\r\n";
    return s + "\r\n" + body;
}

void address_of(socket_t sock, bool peer, std::string & ip, int & port) {
    sockaddr_storage addr{};
    socklen_t        len = sizeof addr;
    const int        r   = peer ? ::getpeername(sock, (sockaddr *) &addr, &len) : ::getsockname(sock, (sockaddr *) &addr, &len);
    if (r != 0) return;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (::getnameinfo((sockaddr *) &addr, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        ip   = host;
        port = std::atoi(serv);
    }
}

// httplib's task queue, growing a thread at a time up to a bound (an idle server holds few).
// Threads are std::thread's default size: address space reserved, pages touched on use, so
// hundreds cost little memory while handlers keep the stack that JSON and templates need.
class connection_pool final : public httplib::TaskQueue {
  public:
    explicit connection_pool(size_t max_threads) : max_(max_threads) {}
    ~connection_pool() override { shutdown(); }

    void enqueue(std::function<void()> fn) override {
        std::lock_guard lk(mu_);
        jobs_.push_back(std::move(fn));
        if (jobs_.size() > idle_ && threads_.size() < max_) threads_.emplace_back([this] { work(); });
        cv_.notify_one();
    }

    void shutdown() override {
        {
            std::lock_guard lk(mu_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto & t : threads_) t.join();  // no enqueue after shutdown: the listener has stopped
    }

  private:
    void work() {
        std::unique_lock lk(mu_);
        for (;;) {
            idle_++;
            cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
            idle_--;
            if (jobs_.empty()) return;  // stopping, nothing left
            auto fn = std::move(jobs_.front());
            jobs_.pop_front();
            lk.unlock();
            fn();
            lk.lock();
        }
    }

    const size_t                       max_;
    std::mutex                         mu_;
    std::condition_variable            cv_;
    std::deque<std::function<void()>>  jobs_;
    std::vector<std::thread>           threads_;
    size_t                             idle_     = 0;
    bool                               stopping_ = false;
};

enum stream_outcome {
    STREAM_OUTCOME_NONE,
    STREAM_OUTCOME_HEADER_DEADLINE,
    STREAM_OUTCOME_BODY_DEADLINE,
    STREAM_OUTCOME_HEAD_TOO_LARGE,
    STREAM_OUTCOME_BODY_TOO_LARGE,
};

enum stream_phase {
    STREAM_PHASE_HEAD,  // the request line and headers, up to the blank line
    STREAM_PHASE_BODY,  // what follows, until the next request begins
};

// One connection's stream, kept across its keep-alive requests (bytes a client sent ahead
// stay buffered). It tracks where the request is (head or body) from the bytes httplib
// reads, and fails a read past the deadline or the byte caps after writing the refusal.
class guarded_stream final : public httplib::Stream {
  public:
    guarded_stream(socket_t sock, const connection_limits & lim, const refusal_body_fn & body_of,
                   const std::atomic<socket_t> & listener, time_t read_timeout_sec, time_t write_timeout_sec) :
        sock_(sock),
        lim_(lim),
        body_of_(body_of),
        listener_(listener),
        read_timeout_(std::chrono::seconds(read_timeout_sec)),
        write_timeout_ms_((int) write_timeout_sec * 1000) {}

    // A request is due: its head must be complete within the header timeout from now.
    void request_begin() {
        phase_         = STREAM_PHASE_HEAD;
        head_deadline_ = clock_type::now() + std::chrono::milliseconds((int64_t) (lim_.header_timeout_secs * 1000));
        head_bytes_    = 0;
        body_bytes_    = 0;
        crlf_matched_  = 0;
        first_line_done_ = false;
        first_line_.clear();
        response_head_.clear();
        response_head_done_ = false;
        response_closes_    = false;
    }

    // Waits for the first byte of the request, at most keep_alive_secs and never past the
    // head's deadline; false when none came (an idle connection) or the server stops.
    bool request_wait(double keep_alive_secs) {
        if (off_ < len_) return true;
        const auto until = std::min(head_deadline_, clock_type::now() + std::chrono::milliseconds((int64_t) (keep_alive_secs * 1000)));
        for (;;) {
            if (listener_ == INVALID_SOCKET || clock_type::now() >= until) return false;
            const int r = poll_one(sock_, POLLIN, std::max(ms_until(until), 1));
            if (r < 0) return false;
            if (r > 0) return true;
        }
    }

    stream_outcome outcome() const { return outcome_; }
    // httplib answered before the head was complete (a malformed or over-long header line):
    // what follows cannot be framed as a request, so the connection ends after the answer.
    bool head_unfinished() const { return phase_ == STREAM_PHASE_HEAD && head_bytes_ > 0; }
    // The answer said "Connection: close" (e.g. a refusal that left the body unread).
    bool response_closes() const { return response_closes_; }

    bool is_readable() const override {
        return off_ < len_ || poll_one(sock_, POLLIN, (int) std::chrono::duration_cast<std::chrono::milliseconds>(read_timeout_).count()) > 0;
    }

    bool is_writable() const override {
        if (outcome_ != STREAM_OUTCOME_NONE) return false;
        if (poll_one(sock_, POLLOUT, write_timeout_ms_) <= 0) return false;
        // Still connected: nothing to read, or something (not the end) to read.
        if (poll_one(sock_, POLLIN, 0) <= 0) return true;
        char c;
        const ssize_t n = ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n > 0 || (n < 0 && errno == EAGAIN);
    }

    ssize_t read(char * ptr, size_t size) override {
        if (outcome_ != STREAM_OUTCOME_NONE) return -1;
        if (off_ == len_) {
            const ssize_t got = fill();
            if (got <= 0) return got;
        }
        const size_t n = std::min(size, len_ - off_);
        const char * p = buf_ + off_;
        if (phase_ == STREAM_PHASE_HEAD) {
            size_t i = 0;
            while (i < n && phase_ == STREAM_PHASE_HEAD) head_byte(p[i++]);
            if (phase_ == STREAM_PHASE_BODY) body_bytes_ += n - i;
            if (head_bytes_ > lim_.max_head_bytes) {
                if (!first_line_done_) {
                    refuse(STREAM_OUTCOME_HEAD_TOO_LARGE, 414,
                           "the request line is over " + std::to_string(lim_.max_head_bytes) +
                               " bytes; send a shorter URL (the request goes in the body)",
                           "uri_too_long");
                } else {
                    refuse(STREAM_OUTCOME_HEAD_TOO_LARGE, 431,
                           "the request's headers are over " + std::to_string(lim_.max_head_bytes) +
                               " bytes; send fewer or shorter headers",
                           "headers_too_large");
                }
                return -1;
            }
        } else {
            body_bytes_ += n;
        }
        if (body_bytes_ > lim_.max_body_bytes) {
            refuse(STREAM_OUTCOME_BODY_TOO_LARGE, 413,
                   "the request body is over the server's limit of " + std::to_string(lim_.max_body_bytes >> 20) +
                       " MiB (--max-body-mb)",
                   "body_too_large");
            return -1;
        }
        std::memcpy(ptr, p, n);
        off_ += n;
        return (ssize_t) n;
    }

    ssize_t write(const char * ptr, size_t size) override {
        if (!is_writable()) return -1;
        if (!response_head_done_) response_head_add(ptr, size);
        for (;;) {
            const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            return n;
        }
    }

    void get_remote_ip_and_port(std::string & ip, int & port) const override { address_of(sock_, true, ip, port); }
    void get_local_ip_and_port(std::string & ip, int & port) const override { address_of(sock_, false, ip, port); }
    socket_t socket() const override { return sock_; }

  private:
    // When the body must be in by: a grace of the header timeout, then the minimum rate.
    clock_type::time_point body_deadline() const {
        const double secs = lim_.header_timeout_secs + (double) body_bytes_ / std::max(lim_.body_min_rate, 1.0);
        return body_start_ + std::chrono::milliseconds((int64_t) (secs * 1000));
    }

    // Reads what the socket has into the buffer: > 0 bytes, 0 at the end, -1 when it failed,
    // went quiet for httplib's read timeout, passed its deadline (answered 408) or the server stops.
    ssize_t fill() {
        const auto quiet_until = clock_type::now() + read_timeout_;
        for (;;) {
            if (listener_ == INVALID_SOCKET) return -1;
            const auto deadline = phase_ == STREAM_PHASE_HEAD ? head_deadline_ : body_deadline();
            const auto now      = clock_type::now();
            if (now >= deadline) {
                if (phase_ == STREAM_PHASE_HEAD) {
                    refuse(STREAM_OUTCOME_HEADER_DEADLINE, 408,
                           "the request's head (request line and headers) did not arrive within " +
                               std::to_string((int) lim_.header_timeout_secs) + " s (--header-timeout)",
                           "request_timeout");
                } else {
                    refuse(STREAM_OUTCOME_BODY_DEADLINE, 408,
                           "the request body arrived slower than " + std::to_string((int) lim_.body_min_rate) +
                               " bytes/s after a grace of " + std::to_string((int) lim_.header_timeout_secs) +
                               " s (--header-timeout)",
                           "request_timeout");
                }
                return -1;
            }
            if (now >= quiet_until) return -1;
            const int r = poll_one(sock_, POLLIN, std::max(ms_until(std::min(deadline, quiet_until)), 1));
            if (r < 0) return -1;
            if (r == 0) continue;
            const ssize_t n = ::recv(sock_, buf_, sizeof buf_, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return n;
            off_ = 0;
            len_ = (size_t) n;
            return n;
        }
    }

    // One byte of the head: its count, the request line (for the error's wire format), and
    // the blank line that ends it (httplib too ends a head only at CRLF CRLF).
    void head_byte(char c) {
        head_bytes_++;
        if (!first_line_done_) {
            if (c == '\n') first_line_done_ = true;
            else if (first_line_.size() < 256) first_line_ += c;
        }
        static const char end[] = "\r\n\r\n";
        crlf_matched_ = c == end[crlf_matched_] ? crlf_matched_ + 1 : (c == '\r' ? 1 : 0);
        if (crlf_matched_ == 4) {
            phase_      = STREAM_PHASE_BODY;
            body_start_ = clock_type::now();
        }
    }

    // The answer's head as it is written, for its Connection header (1xx interim heads skipped).
    void response_head_add(const char * p, size_t n) {
        response_head_.append(p, std::min(n, (size_t) 16384));
        const size_t end = response_head_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (response_head_.size() > 16384) response_head_done_ = true;  // not a head we can read
            return;
        }
        std::string head = response_head_.substr(0, end + 2);
        if (head.rfind("HTTP/1.1 1", 0) == 0) {
            response_head_.erase(0, end + 4);
            return;
        }
        response_head_done_ = true;
        for (char & c : head) c = (char) std::tolower((unsigned char) c);
        response_closes_ = head.find("\r\nconnection: close\r\n") != std::string::npos;
    }

    // "POST /v1/messages?x HTTP/1.1" -> "/v1/messages"
    std::string path() const {
        const size_t a = first_line_.find(' ');
        if (a == std::string::npos) return {};
        const size_t b = first_line_.find_first_of(" ?", a + 1);
        return first_line_.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
    }

    void refuse(stream_outcome why, int status, const std::string & message, const std::string & code) {
        outcome_ = why;
        send_all(sock_, refusal_response(status, body_of_(path(), status, message, code)));
    }

    const socket_t                 sock_;
    const connection_limits &      lim_;
    const refusal_body_fn &        body_of_;
    const std::atomic<socket_t> &  listener_;
    const clock_type::duration     read_timeout_;
    const int                      write_timeout_ms_;

    char   buf_[4096];
    size_t off_ = 0, len_ = 0;

    stream_phase           phase_ = STREAM_PHASE_HEAD;
    stream_outcome         outcome_ = STREAM_OUTCOME_NONE;
    clock_type::time_point head_deadline_{}, body_start_{};
    uint64_t               head_bytes_ = 0, body_bytes_ = 0;
    int                    crlf_matched_ = 0;
    bool                   first_line_done_ = false;
    std::string            first_line_;
    std::string            response_head_;
    bool                   response_head_done_ = false;
    bool                   response_closes_    = false;
};

// Closes the socket when the connection's job ends, whichever way.
struct socket_closer {
    socket_t sock;
    ~socket_closer() {
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
    }
};

struct open_count {
    std::atomic<uint64_t> & n;
    ~open_count() { n--; }
};

}  // namespace

guarded_server::guarded_server(const connection_limits & limits, refusal_body_fn body_of) :
    limits_(limits),
    body_of_(std::move(body_of)) {
    const size_t threads = (size_t) std::max(limits_.max_connections, 1) + pool_spare_threads;
    new_task_queue       = [threads] { return new connection_pool(threads); };
}

guarded_server::~guarded_server() = default;

bool guarded_server::bind_to_port(const std::string & host, int port) {
    if (!httplib::Server::bind_to_port(host, port)) return false;
    backlog_raise();
    return true;
}

int guarded_server::bind_to_any_port(const std::string & host) {
    const int port = httplib::Server::bind_to_any_port(host);
    if (port > 0) backlog_raise();
    return port;
}

// listen() again on a listening socket only sets its backlog (the kernel caps it at somaxconn).
void guarded_server::backlog_raise() { ::listen(svr_sock_, std::max(limits_.max_connections, 128)); }

connection_stats guarded_server::stats() const {
    connection_stats s;
    s.open            = n_.open.load();
    s.refused         = n_.refused.load();
    s.header_deadline = n_.header_deadline.load();
    s.body_deadline   = n_.body_deadline.load();
    s.head_too_large  = n_.head_too_large.load();
    s.body_too_large  = n_.body_too_large.load();
    return s;
}

// httplib's loop (keep-alive up to its count and timeout, a request at a time through
// process_request), behind the cap and over the guarded stream.
bool guarded_server::process_and_close_socket(socket_t sock) {
    socket_closer closer{ sock };
    open_count    counted{ n_.open };
    if (n_.open.fetch_add(1) + 1 > (uint64_t) limits_.max_connections) {
        n_.refused++;
        const std::string msg = "the server has " + std::to_string(limits_.max_connections) +
                                " connections open, its limit (--max-connections); retry shortly";
        send_all(sock, refusal_response(503, body_of_("", 503, msg, "too_many_connections")));
        linger_drain(sock, linger_ms_over_cap, linger_max_bytes);
        return false;
    }

    guarded_stream strm(sock, limits_, body_of_, svr_sock_, read_timeout_sec_, write_timeout_sec_);
    bool           ret   = false;
    size_t         count = std::max<size_t>(keep_alive_max_count_, 1);
    strm.request_begin();
    while (svr_sock_ != INVALID_SOCKET && count > 0 && strm.request_wait((double) keep_alive_timeout_sec_)) {
        bool closed = false;
        ret         = process_request(strm, count == 1, closed, nullptr);
        if (!ret || closed || strm.outcome() != STREAM_OUTCOME_NONE || strm.head_unfinished() ||
            strm.response_closes()) {
            break;
        }
        count--;
        strm.request_begin();
    }
    switch (strm.outcome()) {
        case STREAM_OUTCOME_NONE:
            // Unread bytes at close() would reset the connection before the client reads the answer.
            if (strm.head_unfinished() || strm.response_closes()) linger_drain(sock, linger_ms_over_cap, linger_max_bytes);
            return ret;
        case STREAM_OUTCOME_HEADER_DEADLINE: n_.header_deadline++; break;
        case STREAM_OUTCOME_BODY_DEADLINE:   n_.body_deadline++; break;
        case STREAM_OUTCOME_HEAD_TOO_LARGE:  n_.head_too_large++; break;
        case STREAM_OUTCOME_BODY_TOO_LARGE:  n_.body_too_large++; break;
    }
    // A client past a deadline gets no more time; one over a size cap may still be sending.
    const bool too_large = strm.outcome() == STREAM_OUTCOME_HEAD_TOO_LARGE || strm.outcome() == STREAM_OUTCOME_BODY_TOO_LARGE;
    linger_drain(sock, too_large ? linger_ms_refusal : linger_ms_over_cap, linger_max_bytes);
    return false;
}

}  // namespace muse::server
