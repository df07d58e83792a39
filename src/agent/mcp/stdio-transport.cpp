#include "agent/mcp/stdio-transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/mcp/error.h"
#include "agent/mcp/json-rpc.h"

namespace muse::agent {

namespace {

constexpr size_t stderr_tail_bytes = 4096;

// write() to a pipe whose reader is gone raises SIGPIPE, which would end muse. Block it in this
// thread for the write and swallow the one the write left pending.
ssize_t stdio_write_quiet(int fd, const char * data, size_t size) {
    sigset_t pipe_set;
    sigset_t old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    ssize_t n           = ::write(fd, data, size);
    int     write_errno = errno;
    if (n < 0 && write_errno == EPIPE) {
        timespec zero {};
        while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
    errno = write_errno;
    return n;
}

}  // namespace

mcp_stdio_transport::mcp_stdio_transport(const mcp_server_config & config, size_t message_cap) :
    message_cap_(message_cap) {
    child_ =
        std::make_unique<mcp_child_process>(config.command, config.args, mcp_child_environment(config.env), config.cwd);
    if (pipe2(wake_, O_CLOEXEC) != 0) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, std::string("cannot make a pipe: ") + std::strerror(errno));
    }
}

mcp_stdio_transport::~mcp_stdio_transport() {
    close();
    for (int fd : wake_) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

void mcp_stdio_transport::start(mcp_transport_events events) {
    events_ = std::move(events);
    reader_ = std::thread([this] { read_loop(); });
}

void mcp_stdio_transport::close() {
    {
        std::lock_guard<std::mutex> lock(write_mutex_);
        if (closing_.exchange(true)) {
            return;
        }
        child_->terminate();
    }
    char byte = 1;
    (void)!::write(wake_[1], &byte, 1);
    if (reader_.joinable()) {
        reader_.join();
    }
}

std::string mcp_stdio_transport::stderr_tail() const {
    std::lock_guard<std::mutex> lock(stderr_mutex_);
    return stderr_tail_;
}

void mcp_stdio_transport::send(const nlohmann::json & message, std::chrono::steady_clock::time_point deadline) {
    std::string line = jsonrpc_dump(message) + "\n";

    std::lock_guard<std::mutex> lock(write_mutex_);
    if (closing_ || finished_) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "the server's connection is closed");
    }
    size_t done = 0;
    while (done < line.size()) {
        ssize_t n = stdio_write_quiet(child_->stdin_fd(), line.data() + done, line.size() - done);
        if (n > 0) {
            done += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // The server does not read its stdin: wait for room, but not past the deadline.
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                throw mcp_error(MCP_ERROR_KIND_TIMEOUT, "the server did not read its input in time");
            }
            auto   left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
            pollfd p { child_->stdin_fd(), POLLOUT, 0 };
            poll(&p, 1, int(std::min<int64_t>(left + 1, 1000)));
            continue;
        }
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT,
                        std::string("cannot write to the server: ") + std::strerror(n < 0 ? errno : EIO));
    }
}

void mcp_stdio_transport::stderr_append(std::string_view bytes) {
    std::lock_guard<std::mutex> lock(stderr_mutex_);
    stderr_tail_.append(bytes);
    if (stderr_tail_.size() > stderr_tail_bytes) {
        stderr_tail_.erase(0, stderr_tail_.size() - stderr_tail_bytes);
    }
}

void mcp_stdio_transport::read_stdout_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    if (line.empty()) {
        return;
    }
    std::optional<nlohmann::json> message = jsonrpc_parse(line);
    if (!message) {
        // A log line on stdout, or garbage: not ours to act on, unless it answers one of our
        // requests (too deep, broken): that request fails now rather than at its deadline.
        std::string why;
        if (auto id = jsonrpc_unreadable_id(line, &why); id && events_.on_request_failed) {
            events_.on_request_failed(*id, why);
        }
        return;
    }
    if (message->is_array()) {  // a JSON-RPC batch
        for (auto & item : *message) {
            events_.on_message(std::move(item));
        }
        return;
    }
    events_.on_message(std::move(*message));
}

void mcp_stdio_transport::finish(const std::string & reason) {
    if (finished_.exchange(true)) {
        return;
    }
    if (events_.on_closed) {
        events_.on_closed(reason);
    }
}

void mcp_stdio_transport::read_loop() {
    std::string pending;  // stdout bytes after the last newline
    std::string reason;
    char        buffer[65536];
    bool        stderr_open = true;
    while (true) {
        pollfd fds[3] = {
            { child_->stdout_fd(), POLLIN, 0 },
            { wake_[0], POLLIN, 0 },
            { stderr_open ? child_->stderr_fd() : -1, POLLIN, 0 },
        };
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            reason = std::string("cannot read from the server: ") + std::strerror(errno);
            break;
        }
        if (fds[1].revents) {
            reason = "the connection was closed";
            break;
        }
        if (fds[2].revents) {
            ssize_t n = ::read(child_->stderr_fd(), buffer, sizeof(buffer));
            if (n > 0) {
                stderr_append(std::string_view(buffer, size_t(n)));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stderr_open = false;
            }
        }
        if (fds[0].revents) {
            ssize_t n = ::read(child_->stdout_fd(), buffer, sizeof(buffer));
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            if (n <= 0) {
                reason = "";  // end of output: the server exited
                break;
            }
            size_t start = 0;
            for (size_t i = 0; i < size_t(n); i++) {
                if (buffer[i] != '\n') {
                    continue;
                }
                if (pending.empty()) {
                    read_stdout_line(std::string_view(buffer + start, i - start));
                } else {
                    pending.append(buffer + start, i - start);
                    read_stdout_line(pending);
                    pending.clear();
                }
                start = i + 1;
            }
            pending.append(buffer + start, size_t(n) - start);
            if (pending.size() > message_cap_) {
                reason = "the server sent a message over " + std::to_string(message_cap_ >> 20) + " MiB";
                break;
            }
        }
    }
    if (closing_) {
        finish("the connection was closed");
        return;
    }
    if (reason.empty()) {
        // Give stderr a moment: the last words before an exit explain it.
        std::optional<std::string> exit_text = child_->wait_exit(std::chrono::milliseconds(500));
        while (stderr_open) {
            pollfd p { child_->stderr_fd(), POLLIN, 0 };
            if (poll(&p, 1, 50) <= 0) {
                break;
            }
            ssize_t n = ::read(child_->stderr_fd(), buffer, sizeof(buffer));
            if (n <= 0) {
                break;
            }
            stderr_append(std::string_view(buffer, size_t(n)));
        }
        reason           = "the server exited (" + exit_text.value_or("still running, stdout closed") + ")";
        std::string tail = stderr_tail();
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) {
            tail.pop_back();
        }
        if (!tail.empty()) {
            size_t cut = tail.size() > 600 ? tail.size() - 600 : 0;
            while (cut > 0 && cut < tail.size() && (uint8_t(tail[cut]) & 0xC0) == 0x80) {
                cut++;
            }
            reason += "; its stderr ends: " + tail.substr(cut);
        }
    }
    finish(reason);
}

}  // namespace muse::agent
