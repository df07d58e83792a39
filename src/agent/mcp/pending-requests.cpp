#include "agent/mcp/pending-requests.h"

#include "agent/mcp/error.h"

namespace muse::agent {

int64_t mcp_pending_requests::add() {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t                     id = next_id_++;
    slot &                      s  = slots_[id];
    if (!closed_reason_.empty()) {
        s.done    = true;
        s.failure = closed_reason_;
    }
    return id;
}

void mcp_pending_requests::resolve(int64_t id, nlohmann::json response) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto                        it = slots_.find(id);
        if (it == slots_.end() || it->second.done) {
            return;
        }
        it->second.done     = true;
        it->second.response = std::move(response);
    }
    changed_.notify_all();
}

void mcp_pending_requests::fail(int64_t id, const std::string & reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto                        it = slots_.find(id);
        if (it == slots_.end() || it->second.done) {
            return;
        }
        it->second.done    = true;
        it->second.failure = reason;
    }
    changed_.notify_all();
}

void mcp_pending_requests::fail_all(const std::string & reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_reason_ = reason.empty() ? "the connection closed" : reason;
        for (auto & [id, s] : slots_) {
            if (!s.done) {
                s.done    = true;
                s.failure = closed_reason_;
            }
        }
    }
    changed_.notify_all();
}

nlohmann::json mcp_pending_requests::wait(int64_t id, std::chrono::steady_clock::time_point deadline,
                                          const std::atomic<bool> * cancel) {
    // The cancel flag is a plain atomic nobody notifies us about: look at it this often.
    constexpr auto cancel_poll = std::chrono::milliseconds(20);

    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        auto it = slots_.find(id);
        if (it == slots_.end()) {
            throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "internal: request " + std::to_string(id) + " is not pending");
        }
        if (it->second.done) {
            slot s = std::move(it->second);
            slots_.erase(it);
            if (!s.failure.empty()) {
                throw mcp_error(MCP_ERROR_KIND_TRANSPORT, s.failure);
            }
            return std::move(s.response);
        }
        if (cancel && cancel->load()) {
            slots_.erase(it);
            throw mcp_error(MCP_ERROR_KIND_CANCELLED, "cancelled");
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            slots_.erase(it);
            throw mcp_error(MCP_ERROR_KIND_TIMEOUT, "timed out");
        }
        // Bounded waits: a far deadline (time_point::max) must not overflow the wait.
        auto step  = cancel ? cancel_poll : std::chrono::milliseconds(1000);
        auto until = deadline - now > step ? now + step : deadline;
        changed_.wait_until(lock, until);
    }
}

void mcp_pending_requests::remove(int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    slots_.erase(id);
}

}  // namespace muse::agent
