// A message committed as it completes survives kill -9: a child process appends messages and
// reports each committed id through a pipe; the parent SIGKILLs it mid-stream, then finds the
// database sound and every reported message in it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "store/database.h"
#include "store_test_util.h"

using namespace muse;

namespace {

// The child: append forever, writing "<id>\n" after each commit. Never returns into gtest.
[[noreturn]] void child_append_forever(const std::filesystem::path & dir, int64_t user_id, const std::string & conv_id,
                                       int out_fd) {
    try {
        store::database db(dir);
        for (int i = 0;; i++) {
            const auto m = db.message_append(user_id, conv_id, "user", "{\"i\":" + std::to_string(i) + "}");
            if (!m)
                _exit(3);
            const std::string line = m->id + "\n";
            if (write(out_fd, line.data(), line.size()) != (ssize_t)line.size())
                _exit(4);
        }
    } catch (...) {
        _exit(2);
    }
}

// Reads whole lines from fd until `want` lines arrived (want < 0: until end of file).
void read_lines(int fd, std::string & pending, std::vector<std::string> & lines, int want) {
    char buf[4096];
    while (want < 0 || (int)lines.size() < want) {
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        pending.append(buf, (size_t)n);
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
            lines.push_back(pending.substr(0, nl));
            pending.erase(0, nl + 1);
        }
    }
}

}  // namespace

TEST(store_crash, sigkill_mid_append_loses_no_committed_message) {
    test::temp_dir dir;
    int64_t        user_id = 0;
    std::string    conv_id;
    {
        store::database db(dir.path());
        user_id = db.user_get_or_create("ada", false).id;
        conv_id = db.conversation_create(user_id, "crash", "{}").id;
    }

    for (int round = 0; round < 3; round++) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            child_append_forever(dir.path(), user_id, conv_id, fds[1]);
        }
        close(fds[1]);
        std::vector<std::string> reported;
        std::string              pending;
        read_lines(fds[0], pending, reported, 40 + 25 * round);
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended on its own: " << status;
        read_lines(fds[0], pending, reported, -1);  // ids it committed before the signal landed
        close(fds[0]);
        ASSERT_GE(reported.size(), size_t(40 + 25 * round));

        EXPECT_EQ(test::sql_text(dir.db_path(), "PRAGMA integrity_check"), "ok");
        store::database       db(dir.path());
        std::set<std::string> stored;
        for (const auto & m : db.message_list(user_id, conv_id))
            stored.insert(m.id);
        for (const auto & id : reported) {
            EXPECT_TRUE(stored.count(id))
                << "committed message " << id << " is missing after kill -9 (round " << round << ")";
        }
    }
}
