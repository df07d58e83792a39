#pragma once
// The process-wide llama.cpp backend, owned by main() and passed down: it initialises ggml,
// routes llama.cpp / mtmd log lines to stderr (only when verbose) and remembers the last
// error lines so that a failed load can say *why* it failed.
#include <deque>
#include <mutex>
#include <string>

namespace muse {

class backend {
  public:
    explicit backend(bool verbose = false);
    ~backend();
    backend(const backend &)             = delete;
    backend & operator=(const backend &) = delete;

    void set_verbose(bool verbose);

    // The last error/warning lines llama.cpp logged since the previous call, joined by "; ".
    std::string take_last_errors();

    // Called by the log trampoline.
    void on_log(int level, const char * text);

  private:
    bool                    verbose_;
    std::mutex              mutex_;
    std::string             partial_;
    std::deque<std::string> errors_;
};

}  // namespace muse
