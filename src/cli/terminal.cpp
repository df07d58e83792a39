#include "cli/terminal.h"

#include <unistd.h>

namespace muse::cli {

bool is_tty(FILE * f) { return isatty(fileno(f)) != 0; }

std::string bytes_text(double bytes) {
    char buf[32];
    if (bytes >= double(1ull << 30)) {
        snprintf(buf, sizeof(buf), "%.2f GiB", bytes / double(1ull << 30));
    } else {
        snprintf(buf, sizeof(buf), "%.1f MiB", bytes / double(1ull << 20));
    }
    return buf;
}

progress_bar::progress_bar(std::string label)
    : label_(std::move(label)), tty_(is_tty(stderr)), start_(std::chrono::steady_clock::now()) {}

void progress_bar::update(float fraction) {
    const int percent = (int) (fraction * 100.0f + 0.5f);
    if (percent == last_percent_) {
        return;
    }
    last_percent_ = percent;
    if (tty_) {
        const int width = 30;
        const int fill  = percent * width / 100;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_.c_str(), fill, "==============================", width - fill, "",
                percent);
    } else if (percent % 25 == 0) {
        fprintf(stderr, "%s: %d%%\n", label_.c_str(), percent);
    }
    fflush(stderr);
}

void progress_bar::done() {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (tty_) {
        fprintf(stderr, "\r\033[K%s: done in %.2f s\n", label_.c_str(), secs);
    }
}

bool progress_throttle::due(bool last) {
    const auto now = std::chrono::steady_clock::now();
    if (!last && now - shown_ < every_) return false;
    shown_ = now;
    return true;
}

answer_printer::answer_printer() : tty_(is_tty(stdout)) {}

void answer_printer::reasoning(const std::string & text) {
    if (text.empty()) {
        return;
    }
    if (tty_) {
        if (!in_reasoning_) {
            fputs("\033[2m", stdout);  // dim
            in_reasoning_ = true;
        }
        fputs(text.c_str(), stdout);
        fflush(stdout);
    } else {
        fputs(text.c_str(), stderr);
        fflush(stderr);
    }
}

void answer_printer::content(const std::string & text) {
    if (text.empty()) {
        return;
    }
    if (in_reasoning_) {
        fputs("\033[0m\n", stdout);
        in_reasoning_ = false;
    }
    fputs(text.c_str(), stdout);
    fflush(stdout);
}

void answer_printer::end() {
    if (in_reasoning_) {
        fputs("\033[0m", stdout);
        in_reasoning_ = false;
    }
    fputs("\n", stdout);
    fflush(stdout);
}

}  // namespace muse::cli
