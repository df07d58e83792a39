#pragma once
// Terminal output: a progress bar on stderr, and answer/reasoning rendering that dims the
// reasoning on a terminal and sends it to stderr otherwise.
#include <chrono>
#include <cstdio>
#include <string>

namespace muse::cli {

bool is_tty(FILE * f);

// "12.3 MiB", "2.49 GiB"
std::string bytes_text(double bytes);

// When a line of progress is due: each second on a terminal, every `log_secs` into a log
// (a log wants few lines), and always for the last one.
class progress_throttle {
  public:
    progress_throttle(bool tty, int log_secs) : every_(tty ? 1 : log_secs) {}
    bool due(bool last);

  private:
    std::chrono::seconds                  every_;
    std::chrono::steady_clock::time_point shown_{};
};

class progress_bar {
  public:
    explicit progress_bar(std::string label);
    void update(float fraction);
    void done();

  private:
    std::string                           label_;
    bool                                  tty_;
    int                                   last_percent_ = -1;
    std::chrono::steady_clock::time_point start_;
};

// Writes streamed reasoning and answer text to the right places.
class answer_printer {
  public:
    answer_printer();
    void reasoning(const std::string & text);
    void content(const std::string & text);
    void end();

  private:
    bool tty_;
    bool in_reasoning_ = false;
};

}  // namespace muse::cli
