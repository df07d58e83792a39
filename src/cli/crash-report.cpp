#include "cli/crash-report.h"

#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <iterator>

#include "engine/system-info.h"

namespace muse::cli {

namespace {

struct fatal_signal {
    int          number;
    const char * name;
    const char * meaning;  // strsignal's words first: what people (and tests) search logs for
};

constexpr fatal_signal k_fatal_signals[] = {
    { SIGILL, "SIGILL", "Illegal instruction: this CPU lacks an instruction the binary uses" },
    { SIGSEGV, "SIGSEGV", "Segmentation fault: an access to memory the process does not own" },
    { SIGBUS, "SIGBUS", "Bus error: a mapped file (a model) shrank under the process, or a misaligned access" },
    { SIGFPE, "SIGFPE", "Floating point exception: an integer division by zero" },
    { SIGABRT, "SIGABRT", "Aborted: a failed assertion or a fatal error in muse or llama.cpp" },
};

// A signal handler may call only async-signal-safe functions (no malloc, no stdio), so all it
// writes is formatted at install, into storage it only reads. These are globals because a
// signal handler can reach nothing else.
// The header is written into the slot the handler is not reading, then published.
constexpr size_t  k_header_max = 4096;
char              g_header[2][k_header_max];  // ", in <summary>\n"
size_t            g_header_len[2] = {};
std::atomic<int>  g_header_slot { 0 };
size_t            g_page_size = 4096;
std::atomic<bool> g_reporting { false };
// The handler runs here, so that a stack overflow (SIGSEGV on the guard page) still gets its
// report. 256 KiB: the signal frame alone takes over 11 KiB with AVX-512 and AMX state.
alignas(64) char g_alt_stack[256 * 1024];

// A line built in the handler, on its stack, without allocating.
struct line_buffer {
    char   text[k_header_max + 512];
    size_t len = 0;

    void add(const char * s, size_t n) {
        n = std::min(n, sizeof(text) - len);
        memcpy(text + len, s, n);
        len += n;
    }
    void add(const char * s) { add(s, strlen(s)); }
    void add_hex(uintptr_t v, int min_digits) {
        char digits[2 * sizeof(v)];
        int  n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v & 0xf];
            v >>= 4;
        } while (v != 0 || n < min_digits);
        while (n > 0)
            add(&digits[--n], 1);
    }
    void add_dec(long v) {
        char digits[24];
        int  n = 0;
        do {
            digits[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0);
        while (n > 0)
            add(&digits[--n], 1);
    }
};

void write_all(const char * p, size_t n) {
    while (n > 0) {
        const ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void on_fatal_signal(int sig, siginfo_t * info, void *) {
    const int saved_errno = errno;
    if (g_reporting.exchange(true)) {
        // Another thread is writing its report: let it finish and end the process.
        const timespec wait = { 2, 0 };
        nanosleep(&wait, nullptr);
    } else {
        const fatal_signal * fs = nullptr;
        for (const auto & f : k_fatal_signals) {
            if (f.number == sig)
                fs = &f;
        }
        line_buffer line;
        line.add("muse: fatal signal ");
        line.add(fs ? fs->name : "?");
        line.add(" (");
        line.add(fs ? fs->meaning : "?");
        line.add(")");
        if (info && info->si_code > 0 && sig != SIGABRT) {
            // The kernel's own signal: where the fault was; for SIGILL the instruction's bytes,
            // up to the end of its page (the page is mapped: the CPU just fetched from it).
            const auto addr = (uintptr_t)info->si_addr;
            line.add(" at 0x");
            line.add_hex(addr, 1);
            if (sig == SIGILL && addr != 0) {
                const size_t n = std::min<size_t>(15, g_page_size - addr % g_page_size);
                line.add(" (bytes");
                for (size_t i = 0; i < n; ++i) {
                    line.add(" ");
                    line.add_hex(((const unsigned char *)addr)[i], 2);
                }
                line.add(")");
            }
        } else if (info && info->si_code <= 0 && sig != SIGABRT) {
            line.add(" sent by process ");
            line.add_dec((long)info->si_pid);
        }
        const int slot = g_header_slot.load();
        line.add(g_header[slot], g_header_len[slot]);
        write_all(line.text, line.len);

        static const char k_trace[] = "backtrace (c++filt demangles the names):\n";
        write_all(k_trace, sizeof(k_trace) - 1);
        void *    frames[64];
        const int n = backtrace(frames, (int)std::size(frames));
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
    }
    // SA_RESETHAND made the action the default one; the signal is blocked in its handler, so
    // it lands (and ends the process) as soon as it is unblocked.
    signal(sig, SIG_DFL);
    raise(sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    errno = saved_errno;
}

// One line: ", in " + the summary, with any newline in it made a space.
void header_set(const std::string & summary) {
    line_buffer h;
    h.add(", in ");
    h.add(summary.data(), std::min(summary.size(), k_header_max - 6));
    h.add("\n");
    std::replace(h.text, h.text + h.len - 1, '\n', ' ');
    const int slot = 1 - g_header_slot.load();
    memcpy(g_header[slot], h.text, h.len);
    g_header_len[slot] = h.len;
    g_header_slot.store(slot);
}

}  // namespace

void crash_report_install() {
    // The CPU and the versions first: reading them runs no ggml code.
    system_info sys = system_info_read_cpu();
    header_set(system_info_summary(sys));
    const long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        g_page_size = (size_t)page;

    // backtrace() loads libgcc's unwinder on its first call, which allocates: do it now.
    void * warm[2];
    backtrace(warm, 2);

    // For this thread (main); a thread without its own alternate stack runs the handler on its
    // stack, which serves every fault but its own stack's overflow.
    stack_t ss  = {};
    ss.ss_sp    = g_alt_stack;
    ss.ss_size  = sizeof(g_alt_stack);
    ss.ss_flags = 0;
    sigaltstack(&ss, nullptr);

    for (const auto & f : k_fatal_signals) {
        struct sigaction old = {};
        if (sigaction(f.number, nullptr, &old) != 0)
            continue;
        const bool ours = (old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_fatal_signal;
        if (!ours && ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL))
            continue;  // a sanitizer's
        struct sigaction sa = {};
        sa.sa_sigaction     = on_fatal_signal;
        sa.sa_flags         = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(f.number, &sa, nullptr);
    }

    // The kernels only now: asking ggml's CPU backend runs its code, built with -march=native
    // for the build machine, which is the first place a binary for another CPU dies (SIGILL).
    system_info_read_kernels(sys);
    header_set(system_info_summary(sys));
}

}  // namespace muse::cli
