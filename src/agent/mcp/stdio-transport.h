#pragma once
// An MCP server as a child process (child-process.h): newline-delimited JSON-RPC on its stdin
// and stdout, the tail of its stderr kept for error messages. One reader thread serves stdout
// and stderr; lines that are not JSON are skipped (servers that log to stdout), a line over
// the size cap ends the link. close() (and destruction) ends the child and joins the reader.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/mcp/child-process.h"
#include "agent/mcp/config.h"
#include "agent/mcp/transport.h"

namespace muse::agent {

class mcp_stdio_transport : public mcp_transport {
  public:
    // Starts the process; throws mcp_error naming the command when it cannot.
    mcp_stdio_transport(const mcp_server_config & config, size_t message_cap);
    ~mcp_stdio_transport() override;

    mcp_stdio_transport(const mcp_stdio_transport &)             = delete;
    mcp_stdio_transport & operator=(const mcp_stdio_transport &) = delete;

    void start(mcp_transport_events events) override;
    void send(const nlohmann::json & message, std::chrono::steady_clock::time_point deadline) override;
    void close() override;

    pid_t       pid() const { return child_->pid(); }
    std::string stderr_tail() const;

  private:
    void read_loop();
    void read_stdout_line(std::string_view line);
    void stderr_append(std::string_view bytes);
    void finish(const std::string & reason);

    size_t                             message_cap_;
    std::unique_ptr<mcp_child_process> child_;
    int                                wake_[2] = { -1, -1 };  // a byte on wake_[1] stops the reader
    mcp_transport_events               events_;
    std::thread                        reader_;
    std::atomic<bool>                  closing_ { false };
    std::atomic<bool>                  finished_ { false };
    std::mutex                         write_mutex_;
    mutable std::mutex                 stderr_mutex_;
    std::string                        stderr_tail_;
};

}  // namespace muse::agent
