// `muse chat` as a person types it: the real binary on a pseudo-terminal (forkpty), so that
// libedit edits the line and Ctrl-C is the terminal's SIGINT, not a byte in a pipe. Covers
// Ctrl-C during a reply and at the prompt (the next turn must generate), SIGTERM at the
// prompt, the up arrow, /save without a path, and /save + /load in a new process with an
// image. Every wait has a deadline: a hang fails the test instead of holding CI.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs     = std::filesystem;

const std::string models = MUSE_TEST_MODELS_DIR;

clock_type::time_point deadline_in(double secs) {
    return clock_type::now() + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(secs));
}
constexpr double  wait_secs = 60;  // generous for a loaded CI machine; a hang still ends

// One `muse chat` process on the slave side of a pty; this side types and reads the screen.
class pty_chat {
  public:
    explicit pty_chat(const std::vector<std::string> & args) {
        struct winsize ws = {};
        ws.ws_row         = 50;
        ws.ws_col         = 200;  // wide: libedit does not wrap the typed lines
        pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
        if (pid_ == 0) {
            std::vector<char *> argv;
            argv.push_back(const_cast<char *>(MUSE_BIN));
            argv.push_back(const_cast<char *>("chat"));
            for (const auto & a : args) {
                argv.push_back(const_cast<char *>(a.c_str()));
            }
            argv.push_back(nullptr);
            setenv("TERM", "xterm", 1);
            setenv("LANG", "C.UTF-8", 1);
            setenv("OMP_WAIT_POLICY", "PASSIVE", 0);  // spinning workers starve a loaded machine
            execv(MUSE_BIN, argv.data());
            _exit(127);
        }
    }

    ~pty_chat() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (fd_ >= 0) {
            close(fd_);
        }
    }

    bool started() const { return pid_ > 0 && fd_ >= 0; }

    void send(const std::string & bytes) {
        ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), (ssize_t) bytes.size()) << strerror(errno);
    }

    void signal_send(int sig) { kill(pid_, sig); }

    // Waits until `needle` shows after the read mark, then moves the mark past it.
    bool expect(const std::string & needle, double secs = wait_secs) {
        const auto deadline = deadline_in(secs);
        while (true) {
            const size_t at = out_.find(needle, mark_);
            if (at != std::string::npos) {
                mark_ = at + needle.size();
                return true;
            }
            if (clock_type::now() > deadline || !read_some(deadline)) {
                ADD_FAILURE() << "no \"" << needle << "\" within " << secs << " s; the screen after the mark:\n"
                              << out_.substr(mark_);
                return false;
            }
        }
    }

    // Waits until `n` more bytes came after the mark (e.g. the reply has begun).
    bool expect_bytes(size_t n, double secs = wait_secs) {
        const auto deadline = deadline_in(secs);
        while (out_.size() < mark_ + n) {
            if (clock_type::now() > deadline || !read_some(deadline)) {
                ADD_FAILURE() << "fewer than " << n << " bytes within " << secs << " s:\n" << out_.substr(mark_);
                return false;
            }
        }
        mark_ = out_.size();
        return true;
    }

    struct summary {
        int         n_prompt = -1;
        int         n_answer = -1;
        std::string reason;
    };

    // The next turn's summary line, e.g. "prompt 12 tok 85.1 tok/s | answer 40 tok 30.2 tok/s | stop",
    // whatever else it shows around these: the prompt and answer counts and the finish reason.
    summary expect_summary(double secs = wait_secs) {
        static const std::regex re(
            R"(prompt (\d+) tok[^\n]*\| answer (\d+) tok[^\n]*?\| (stop_string|stop|length|context|cancelled)\b[^\n]*\n)");
        const auto deadline = deadline_in(secs);
        while (true) {
            std::smatch       m;
            const std::string rest = out_.substr(mark_);
            if (std::regex_search(rest, m, re)) {
                mark_ += (size_t) (m.position(0) + m.length(0));
                return { std::stoi(m[1]), std::stoi(m[2]), m[3] };
            }
            if (clock_type::now() > deadline || !read_some(deadline)) {
                ADD_FAILURE() << "no turn summary within " << secs << " s:\n" << rest;
                return {};
            }
        }
    }

    // The exit status, or nullopt when the process is still running after `secs`.
    std::optional<int> wait_exit(double secs = wait_secs) {
        const auto deadline = deadline_in(secs);
        while (clock_type::now() < deadline) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                exited_ = true;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            read_some(clock_type::now() + std::chrono::milliseconds(50));  // keep the pty drained
        }
        ADD_FAILURE() << "muse chat still running after " << secs << " s:\n" << out_.substr(mark_);
        return std::nullopt;
    }

    const std::string & screen() const { return out_; }

  private:
    // Reads what is there, waiting at most until `deadline`; false at end of output.
    bool read_some(clock_type::time_point deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        pollfd     p    = { fd_, POLLIN, 0 };
        const int  r    = poll(&p, 1, (int) std::max<int64_t>(0, std::min<int64_t>(left.count(), 1000)));
        if (r <= 0) {
            return r == 0 || errno == EINTR;
        }
        char          buf[4096];
        const ssize_t n = read(fd_, buf, sizeof(buf));
        if (n <= 0) {
            return false;  // EIO: the child closed the terminal
        }
        out_.append(buf, (size_t) n);
        return true;
    }

    pid_t       pid_    = -1;
    int         fd_     = -1;
    bool        exited_ = false;
    std::string out_;
    size_t      mark_ = 0;
};

class ChatPty : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("muse-chat-pty-" + std::to_string(getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }

    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string & name) const { return (dir_ / name).string(); }

    static std::vector<std::string> qwen(int n_tokens) {
        return { "-m", models + "/qwen3-tiny.gguf", "-n", std::to_string(n_tokens), "--temp", "0", "-t", "2" };
    }

    static std::vector<std::string> glimmer() {
        return { "-m", models + "/muse-glimmer-tiny.gguf", "--mmproj", models + "/muse-glimmer-tiny-mmproj.gguf",
                 "-n", "8", "--temp", "0", "-t", "2" };
    }

    static nlohmann::json json_read(const std::string & file) {
        std::ifstream in(file);
        EXPECT_TRUE(in) << file;
        return nlohmann::json::parse(in, nullptr, false);
    }

    // Ctrl-D on an empty prompt ends the chat with status 0. Typed only once the prompt shows:
    // before, the terminal is still in canonical mode, where Ctrl-D is no byte libedit reads.
    static void quit(pty_chat & chat) {
        ASSERT_TRUE(chat.expect("> "));
        chat.send("\x04");
        EXPECT_EQ(chat.wait_exit(), std::optional<int>(0));
    }

    fs::path dir_;
};

// The issue: after one Ctrl-C every later turn ended at once with "answer 0 tok | cancelled".
TEST_F(ChatPty, CtrlCStopsTheReplyAndTheNextTurnGenerates) {
    // Greedy on this random model loops without an end token: the second reply runs to its
    // 400 tokens, long after the Ctrl-C that follows its first ones.
    pty_chat chat(qwen(400));
    ASSERT_TRUE(chat.started());
    ASSERT_TRUE(chat.expect("> "));
    chat.send("Hello\r");
    const auto first = chat.expect_summary();
    EXPECT_GT(first.n_answer, 0);
    EXPECT_NE(first.reason, "cancelled");

    ASSERT_TRUE(chat.expect("> "));
    chat.send("Tell me more\r");
    ASSERT_TRUE(chat.expect("Tell me more"));
    ASSERT_TRUE(chat.expect_bytes(40));  // the echoed newline and the reply's first tokens
    chat.send("\x03");
    const auto stopped = chat.expect_summary();
    EXPECT_EQ(stopped.reason, "cancelled");
    EXPECT_LT(stopped.n_answer, 400);

    ASSERT_TRUE(chat.expect("> "));
    chat.send("And then?\r");
    const auto third = chat.expect_summary();
    EXPECT_GT(third.n_answer, 0);
    EXPECT_NE(third.reason, "cancelled");
    EXPECT_NE(chat.screen().find("(stopped; the reply so far is kept)"), std::string::npos);
    // The stopped reply was kept: the third prompt holds all three user messages.
    chat.send("/save " + path("chat.json") + "\r");
    ASSERT_TRUE(chat.expect("(saved 6 messages"));
    quit(chat);
}

TEST_F(ChatPty, CtrlCAtThePromptClearsTheLine) {
    pty_chat chat(qwen(8));
    ASSERT_TRUE(chat.started());
    ASSERT_TRUE(chat.expect("> "));
    chat.send("\x03");  // on an empty line
    ASSERT_TRUE(chat.expect("^C"));
    ASSERT_TRUE(chat.expect("> "));
    chat.send("half typed");
    ASSERT_TRUE(chat.expect("half typed"));
    chat.send("\x03");
    ASSERT_TRUE(chat.expect("^C"));
    ASSERT_TRUE(chat.expect("> "));
    chat.send("Hello, wörld\r");  // UTF-8 through libedit's decoding
    const auto turn = chat.expect_summary();
    EXPECT_GT(turn.n_answer, 0);
    EXPECT_NE(turn.reason, "cancelled");

    ASSERT_TRUE(chat.expect("> "));
    chat.send("/save " + path("chat.json") + "\r");
    ASSERT_TRUE(chat.expect("(saved 2 messages"));
    quit(chat);
    const auto j = json_read(path("chat.json"));
    ASSERT_TRUE(j.is_array() && j.size() == 2) << j.dump();
    EXPECT_EQ(j[0]["content"], "Hello, wörld");  // nothing of the cleared lines, every byte of this one
}

TEST_F(ChatPty, CommandsWithoutTheirPathShowTheirUsage) {
    pty_chat chat(qwen(8));
    ASSERT_TRUE(chat.started());
    ASSERT_TRUE(chat.expect("> "));
    chat.send("/save\r");
    ASSERT_TRUE(chat.expect("usage: /save FILE"));
    ASSERT_TRUE(chat.expect("> "));
    chat.send("/load\r");
    ASSERT_TRUE(chat.expect("usage: /load FILE"));
    EXPECT_EQ(chat.screen().find("unknown command"), std::string::npos) << chat.screen();
    quit(chat);
}

TEST_F(ChatPty, UpArrowRecallsThePreviousLine) {
    pty_chat chat(qwen(8));
    ASSERT_TRUE(chat.started());
    ASSERT_TRUE(chat.expect("> "));
    chat.send("Hello there\r");
    chat.expect_summary();
    ASSERT_TRUE(chat.expect("> "));
    chat.send("\x1b[A");
    ASSERT_TRUE(chat.expect("Hello there"));  // drawn again on the prompt line
    chat.send("\r");
    const auto turn = chat.expect_summary();
    EXPECT_GT(turn.n_prompt, 0);
    ASSERT_TRUE(chat.expect("> "));
    chat.send("/save " + path("chat.json") + "\r");
    ASSERT_TRUE(chat.expect("(saved 4 messages"));
    quit(chat);
    const auto j = json_read(path("chat.json"));
    ASSERT_TRUE(j.is_array() && j.size() == 4) << j.dump();
    EXPECT_EQ(j[0]["content"], "Hello there");
    EXPECT_EQ(j[2]["content"], "Hello there");
}

// `kill` at the prompt ends the chat; main's handler alone would take it for a Ctrl-C there.
TEST_F(ChatPty, SigtermAtThePromptEndsTheChat) {
    pty_chat chat(qwen(8));
    ASSERT_TRUE(chat.started());
    ASSERT_TRUE(chat.expect("> "));
    chat.send("half typed");
    ASSERT_TRUE(chat.expect("half typed"));
    chat.signal_send(SIGTERM);
    EXPECT_EQ(chat.wait_exit(), std::optional<int>(128 + SIGTERM));
}

void png_write(const std::string & file, int w, int h) {
    std::vector<uint8_t> px((size_t) w * h * 3);
    for (size_t i = 0; i < px.size(); ++i) {
        px[i] = (uint8_t) (i * 13);
    }
    ASSERT_NE(stbi_write_png(file.c_str(), w, h, 3, px.data(), w * 3), 0) << file;
}

TEST_F(ChatPty, SaveThenLoadRestoresTheChatWithItsImage) {
    const std::string pic = path("pic.png");
    png_write(pic, 48, 32);
    int n_prompt_first = 0;
    {
        pty_chat a(glimmer());
        ASSERT_TRUE(a.started());
        ASSERT_TRUE(a.expect("> "));
        a.send("/image " + pic + "\r");
        ASSERT_TRUE(a.expect("(attached"));
        ASSERT_TRUE(a.expect("> "));
        a.send("What is this?\r");
        n_prompt_first = a.expect_summary().n_prompt;
        ASSERT_TRUE(a.expect("> "));
        a.send("/save " + path("a.json") + "\r");
        ASSERT_TRUE(a.expect("(saved 2 messages"));
        quit(a);
    }
    const auto saved = json_read(path("a.json"));
    ASSERT_TRUE(saved.is_array() && saved.size() == 2) << saved.dump();
    EXPECT_EQ(saved[0]["role"], "user");
    EXPECT_EQ(saved[0]["content"], "What is this?");
    EXPECT_EQ(saved[0]["media"], nlohmann::json::array({ pic })) << saved.dump();
    EXPECT_EQ(saved[1]["role"], "assistant");

    pty_chat b(glimmer());
    ASSERT_TRUE(b.started());
    ASSERT_TRUE(b.expect("> "));
    b.send("/load " + path("a.json") + "\r");
    ASSERT_TRUE(b.expect("(loaded 2 messages"));
    ASSERT_TRUE(b.expect("> "));
    b.send("/save " + path("b.json") + "\r");
    ASSERT_TRUE(b.expect("(saved 2 messages"));
    EXPECT_EQ(json_read(path("b.json")), saved);

    // The next turn's prompt holds the restored turns, the image's tokens among them.
    ASSERT_TRUE(b.expect("> "));
    b.send("And now?\r");
    const auto next = b.expect_summary();
    EXPECT_GT(next.n_prompt, n_prompt_first) << b.screen();
    EXPECT_GT(next.n_answer, 0);

    // A bad file leaves the chat as it was: 4 messages, saved again below.
    ASSERT_TRUE(b.expect("> "));
    b.send("/load " + path("missing.json") + "\r");
    ASSERT_TRUE(b.expect("missing.json: cannot read"));
    {
        std::ofstream(path("broken.json")) << "[{\"role\": \"user\", \"content\": ";
    }
    ASSERT_TRUE(b.expect("> "));
    b.send("/load " + path("broken.json") + "\r");
    ASSERT_TRUE(b.expect("broken.json: not valid JSON"));
    {
        nlohmann::json gone = saved;
        gone[0]["media"]    = nlohmann::json::array({ path("gone.png") });
        std::ofstream(path("gone.json")) << gone.dump();
    }
    ASSERT_TRUE(b.expect("> "));
    b.send("/load " + path("gone.json") + "\r");
    ASSERT_TRUE(b.expect("gone.png: cannot open the media file"));
    ASSERT_TRUE(b.expect("> "));
    b.send("/save " + path("c.json") + "\r");
    ASSERT_TRUE(b.expect("(saved 4 messages"));
    quit(b);
    const auto kept = json_read(path("c.json"));
    ASSERT_EQ(kept.size(), 4u) << kept.dump();
    EXPECT_EQ(kept[0], saved[0]);
}

}  // namespace
