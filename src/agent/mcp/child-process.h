#pragma once
// A child process with piped stdin, stdout and stderr, in its own process group, started from
// a clean environment. RAII: destruction terminates the group (stdin closed, SIGTERM, SIGKILL
// after a grace period) and reaps the child, so no zombie or orphan outlives the object.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace muse::agent {

class mcp_child_process {
  public:
    // `env` is the whole environment the child gets. A `command` without '/' is looked up on
    // env's PATH. Throws mcp_error (MCP_ERROR_KIND_TRANSPORT) naming the command when it
    // cannot start.
    mcp_child_process(const std::string & command, const std::vector<std::string> & args,
                      const std::map<std::string, std::string> & env, const std::string & cwd);
    ~mcp_child_process();

    mcp_child_process(const mcp_child_process &)             = delete;
    mcp_child_process & operator=(const mcp_child_process &) = delete;

    pid_t pid() const { return pid_; }
    int   stdin_fd() const { return stdin_fd_; }  // non-blocking
    int   stdout_fd() const { return stdout_fd_; }
    int   stderr_fd() const { return stderr_fd_; }

    // "exit code 1" or "killed by signal 9" once the child ended (waiting up to `wait`);
    // nullopt while it runs.
    std::optional<std::string> wait_exit(std::chrono::milliseconds wait);
    // Ends the child's process group and reaps the child; idempotent.
    void terminate();

  private:
    pid_t                      pid_       = -1;
    int                        stdin_fd_  = -1;
    int                        stdout_fd_ = -1;
    int                        stderr_fd_ = -1;
    std::mutex                 mutex_;  // guards the reaping
    std::optional<std::string> exit_text_;
    bool                       terminated_ = false;
};

// PATH and HOME of ours, then `extra` on top: what a server's environment starts from.
std::map<std::string, std::string> mcp_child_environment(const std::map<std::string, std::string> & extra);

}  // namespace muse::agent
