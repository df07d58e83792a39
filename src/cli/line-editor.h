#pragma once
// Line editing and history for `muse chat` on a terminal (libedit, emacs keys: arrows,
// Ctrl-A/E/K/W, Ctrl-R searches back). The history lives in memory only: a chat is private,
// and nothing typed is written to disk unless the user saves the chat.
#include <atomic>
#include <memory>
#include <string>

// As histedit.h declares them (its history() function hides the struct's plain name).
typedef struct editline EditLine;
typedef struct history  History;

namespace muse::cli {

enum line_read_result {
    LINE_READ_LINE,         // a line was typed and entered
    LINE_READ_INTERRUPTED,  // `interrupt` turned true while the line was typed; what was typed is gone
    LINE_READ_END,          // Ctrl-D on an empty line, or the terminal went away
};

class line_editor {
  public:
    // Only for a terminal on stdin and stdout: libedit draws the prompt and the line on
    // stdout. `interrupt` is the flag the process's SIGINT handler sets (main.cpp).
    line_editor(const char * program, std::string prompt, const std::atomic<bool> & interrupt);
    ~line_editor();
    line_editor(const line_editor &)             = delete;
    line_editor & operator=(const line_editor &) = delete;

    // Reads one line, without its newline. While it waits, SIGTERM ends the process (its
    // default action; main's handler would take it for a Ctrl-C here).
    line_read_result line_read(std::string & line);

    // Makes `line` reachable with the up arrow; the same line twice in a row is kept once.
    void history_add(const std::string & line);

  private:
    static char * prompt_get(EditLine * el);
    static int    char_read(EditLine * el, wchar_t * c);

    // libedit decodes what is typed with mbrtowc: in the "C" locale every non-ASCII byte
    // is dropped. The editor switches LC_CTYPE to the user's UTF-8 locale (or C.UTF-8)
    // for its lifetime and back after.
    class ctype_locale {
      public:
        ctype_locale();
        ~ctype_locale();
        ctype_locale(const ctype_locale &)             = delete;
        ctype_locale & operator=(const ctype_locale &) = delete;

      private:
        std::string previous_;
    };

    struct editline_deleter {
        void operator()(EditLine * el) const;
    };
    struct history_deleter {
        void operator()(History * h) const;
    };

    ctype_locale                                locale_;  // before the editor: it decodes with it
    std::string                                 prompt_;
    const std::atomic<bool> &                   interrupt_;
    std::unique_ptr<History, history_deleter>   history_;
    std::unique_ptr<EditLine, editline_deleter> el_;
};

}  // namespace muse::cli
