#pragma once
// The requests we sent and wait on, matched to their responses by id. Transport threads
// resolve them; callers wait with a deadline and a cancel flag. Safe from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace muse::agent {

class mcp_pending_requests {
  public:
    // A fresh id, registered: its response will be kept until wait() takes it.
    int64_t add();

    // A response arrived (unknown ids are ignored: a late answer to a cancelled request).
    void resolve(int64_t id, nlohmann::json response);
    // The request cannot be answered (its POST failed).
    void fail(int64_t id, const std::string & reason);
    // The link is gone: every waiting request and every later add() fails with `reason`.
    void fail_all(const std::string & reason);

    // The response (a JSON-RPC response object); throws mcp_error on timeout, cancel or
    // failure. The id is unregistered either way.
    nlohmann::json wait(int64_t id, std::chrono::steady_clock::time_point deadline, const std::atomic<bool> * cancel);
    void           remove(int64_t id);

  private:
    struct slot {
        bool           done = false;
        nlohmann::json response;
        std::string    failure;  // set: done without a response
    };

    std::mutex              mutex_;
    std::condition_variable changed_;
    std::map<int64_t, slot> slots_;
    int64_t                 next_id_ = 1;
    std::string             closed_reason_;
};

}  // namespace muse::agent
