#include "cli/line-editor.h"

#include "engine/error.h"

#include <histedit.h>
#include <langinfo.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cwchar>

namespace muse::cli {

static bool ctype_is_utf8() {
    const char * codeset = nl_langinfo(CODESET);
    return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

line_editor::ctype_locale::ctype_locale() {
    const char * now = setlocale(LC_CTYPE, nullptr);
    previous_        = now ? now : "C";
    if (setlocale(LC_CTYPE, "") == nullptr || !ctype_is_utf8()) {
        // LANG unset or not UTF-8 (a container, a service): the model speaks UTF-8 anyway.
        if (setlocale(LC_CTYPE, "C.UTF-8") == nullptr) {
            setlocale(LC_CTYPE, previous_.c_str());
        }
    }
}

line_editor::ctype_locale::~ctype_locale() { setlocale(LC_CTYPE, previous_.c_str()); }

void line_editor::editline_deleter::operator()(EditLine * el) const { el_end(el); }

void line_editor::history_deleter::operator()(History * h) const { history_end(h); }

static line_editor * editor_of(EditLine * el) {
    void * self = nullptr;
    el_get(el, EL_CLIENTDATA, &self);
    return static_cast<line_editor *>(self);
}

char * line_editor::prompt_get(EditLine * el) { return const_cast<char *>(editor_of(el)->prompt_.c_str()); }

// libedit's read function (EL_GETCFN), in place of its own, which cannot see a Ctrl-C
// unless the signal lands while it sits in read(): one that comes while the prompt is drawn,
// or whose re-raise (libedit's handler passes it on with kill(0, SIGINT), where this thread
// blocks it) is run by another thread, would leave the flag set and the line still read.
// This one looks at the flag before every wait, and waits in poll(), which a signal ends
// even under SA_RESTART. A character is one UTF-8 sequence, decoded as libedit does.
int line_editor::char_read(EditLine * el, wchar_t * c) {
    const std::atomic<bool> & interrupt = editor_of(el)->interrupt_;
    char                      bytes[MB_LEN_MAX];
    size_t                    n       = 0;
    int                       wait_ms = -1;
    int                       soon    = 0;  // short waits left after a signal
    while (true) {
        if (interrupt.load()) {
            errno = EINTR;
            return -1;
        }
        pollfd    p = { STDIN_FILENO, POLLIN, 0 };
        const int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        if (r <= 0) {
            // A signal: its handler may run on another thread a moment later; look again soon.
            if (r < 0) {
                soon = 100;
            }
            wait_ms = --soon > 0 ? 10 : -1;
            continue;
        }
        const ssize_t got = read(STDIN_FILENO, bytes + n, 1);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -1;
        }
        if (got == 0) {
            return 0;  // end of input
        }
        ++n;
        mbstate_t    state = {};
        const size_t len   = mbrtowc(c, bytes, n, &state);
        if (len == (size_t) -2 && n < sizeof(bytes)) {
            continue;  // a sequence begun: its next byte
        }
        if (len == (size_t) -1 || len == (size_t) -2) {
            n = 0;  // not UTF-8: dropped, as libedit drops it
            continue;
        }
        return 1;
    }
}

line_editor::line_editor(const char * program, std::string prompt, const std::atomic<bool> & interrupt) :
    prompt_(std::move(prompt)),
    interrupt_(interrupt),
    history_(history_init()),
    el_(el_init(program, stdin, stdout, stderr)) {
    if (!history_ || !el_) {
        throw runtime_error("cannot start the line editor (libedit): out of memory");
    }
    HistEvent ev;
    ::history(history_.get(), &ev, H_SETSIZE, 1000);
    ::history(history_.get(), &ev, H_SETUNIQUE, 1);

    el_set(el_.get(), EL_CLIENTDATA, this);
    el_set(el_.get(), EL_EDITOR, "emacs");
    el_set(el_.get(), EL_PROMPT, &line_editor::prompt_get);
    el_set(el_.get(), EL_HIST, ::history, history_.get());
    el_set(el_.get(), EL_BIND, "^R", "em-inc-search-prev", nullptr);  // as in bash; libedit's own: redisplay
    el_set(el_.get(), EL_GETCFN, &line_editor::char_read);
    // libedit's handlers while a line is read: on Ctrl-Z the terminal is given back before
    // the stop and the line drawn again after it; a resize redraws. Each passes the signal on
    // to the handler it displaced (for SIGINT, main's, which sets `interrupt`).
    el_set(el_.get(), EL_SIGNAL, 1);
}

line_editor::~line_editor() = default;

namespace {

// SIGTERM while a line is typed ends the process, as `kill` means: nothing runs that could
// stop cleanly. main's handler, which SIGTERM shares with SIGINT, would only set the flag,
// and that reads here as a Ctrl-C (the line cleared, no exit). libedit's handler still
// gives the terminal back first, then passes the signal on to this default.
class sigterm_default_scope {
  public:
    sigterm_default_scope() {
        struct sigaction dfl = {};
        dfl.sa_handler       = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGTERM, &dfl, &previous_);
    }
    ~sigterm_default_scope() { sigaction(SIGTERM, &previous_, nullptr); }
    sigterm_default_scope(const sigterm_default_scope &)             = delete;
    sigterm_default_scope & operator=(const sigterm_default_scope &) = delete;

  private:
    struct sigaction previous_ = {};
};

}  // namespace

line_read_result line_editor::line_read(std::string & line) {
    sigterm_default_scope sigterm;
    // Raw mode before the prompt shows: what is typed once it shows is read by libedit, not
    // held (and echoed) by the terminal's line discipline.
    el_set(el_.get(), EL_PREP_TERM, 1);
    int          count = 0;
    const char * text  = el_gets(el_.get(), &count);
    if (text == nullptr || count <= 0) {
        return interrupt_.load() ? LINE_READ_INTERRUPTED : LINE_READ_END;
    }
    line.assign(text, (size_t) count);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
    }
    return LINE_READ_LINE;
}

void line_editor::history_add(const std::string & line) {
    HistEvent ev;
    ::history(history_.get(), &ev, H_ENTER, line.c_str());
}

}  // namespace muse::cli
