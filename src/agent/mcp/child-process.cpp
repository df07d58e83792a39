#include "agent/mcp/child-process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "agent/mcp/error.h"

namespace muse::agent {

namespace {

// Three pipes' six ends, closed unless handed on: the parent's three ends go to the object, the
// child's three are closed after the spawn.
struct child_pipes {
    int in[2]  = { -1, -1 };
    int out[2] = { -1, -1 };
    int err[2] = { -1, -1 };

    ~child_pipes() {
        for (int * p : { in, out, err }) {
            for (int i = 0; i < 2; i++) {
                if (p[i] >= 0) {
                    ::close(p[i]);
                }
            }
        }
    }

    bool open() { return pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0; }
};

std::string child_resolve(const std::string & command, const std::map<std::string, std::string> & env) {
    if (command.find('/') != std::string::npos) {
        if (access(command.c_str(), X_OK) != 0) {
            throw mcp_error(MCP_ERROR_KIND_TRANSPORT,
                            "cannot run '" + command + "': " + std::strerror(errno) + "; check the \"command\" path");
        }
        return command;
    }
    auto        it    = env.find("PATH");
    std::string path  = it == env.end() ? "/usr/local/bin:/usr/bin:/bin" : it->second;
    size_t      start = 0;
    while (start <= path.size()) {
        size_t      end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (dir.empty()) {
            dir = ".";
        }
        std::string candidate = dir + "/" + command;
        struct stat st {};
        if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "command '" + command + "' not found on PATH (" + path +
                                                  "); install it or give its full path in \"command\"");
}

std::string child_exit_text(int status) {
    if (WIFEXITED(status)) {
        return "exit code " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return "killed by signal " + std::to_string(WTERMSIG(status));
    }
    return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

std::map<std::string, std::string> mcp_child_environment(const std::map<std::string, std::string> & extra) {
    std::map<std::string, std::string> env;
    for (const char * key : { "PATH", "HOME" }) {
        if (const char * value = std::getenv(key)) {
            env[key] = value;
        }
    }
    if (!env.count("PATH")) {
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    }
    for (const auto & [k, v] : extra) {
        env[k] = v;
    }
    return env;
}

mcp_child_process::mcp_child_process(const std::string & command, const std::vector<std::string> & args,
                                     const std::map<std::string, std::string> & env, const std::string & cwd) {
    const std::string path = child_resolve(command, env);

    child_pipes pipes;
    if (!pipes.open()) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, std::string("cannot make pipes: ") + std::strerror(errno));
    }

    std::vector<std::string> env_lines;
    for (const auto & [k, v] : env) {
        env_lines.push_back(k + "=" + v);
    }
    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(command.c_str()));
    for (const auto & a : args) {
        argv.push_back(const_cast<char *>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char *> envp;
    for (auto & line : env_lines) {
        envp.push_back(line.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipes.in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, pipes.out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipes.err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // none of our other descriptors
    if (!cwd.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    }

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: terminate() reaches its children too
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    const int rc = posix_spawn(&pid_, path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        pid_              = -1;
        std::string where = cwd.empty() ? "" : " in '" + cwd + "'";
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "cannot start '" + path + "'" + where + ": " + std::strerror(rc));
    }

    stdin_fd_   = pipes.in[1];
    stdout_fd_  = pipes.out[0];
    stderr_fd_  = pipes.err[0];
    pipes.in[1] = pipes.out[0] = pipes.err[0] = -1;
    fcntl(stdin_fd_, F_SETFL, fcntl(stdin_fd_, F_GETFL) | O_NONBLOCK);
}

mcp_child_process::~mcp_child_process() {
    terminate();
    for (int fd : { stdin_fd_, stdout_fd_, stderr_fd_ }) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

std::optional<std::string> mcp_child_process::wait_exit(std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    while (true) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (exit_text_) {
                return exit_text_;
            }
            if (pid_ < 0) {
                return std::nullopt;
            }
            int   status = 0;
            pid_t r      = waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exit_text_ = child_exit_text(status);
                return exit_text_;
            }
            if (r < 0 && errno != EINTR) {
                exit_text_ = "ended (not our child any more)";
                return exit_text_;
            }
        }
        if (std::chrono::steady_clock::now() >= until) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void mcp_child_process::terminate() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (pid_ < 0 || terminated_) {
            return;  // once only: later the group id may name someone else's processes
        }
        terminated_ = true;
        if (stdin_fd_ >= 0) {
            ::close(stdin_fd_);  // the polite way to end an MCP stdio server
            stdin_fd_ = -1;
        }
    }
    // Even after the leader exits, others in its group may live on: signal the group anyway.
    bool ended = wait_exit(std::chrono::milliseconds(100)).has_value();
    kill(-pid_, SIGTERM);
    if (!ended) {
        ended = wait_exit(std::chrono::milliseconds(1000)).has_value();
    }
    kill(-pid_, SIGKILL);
    if (!ended) {
        std::lock_guard<std::mutex> lock(mutex_);
        int                         status = 0;
        while (!exit_text_) {
            pid_t r = waitpid(pid_, &status, 0);
            if (r == pid_) {
                exit_text_ = child_exit_text(status);
            } else if (r < 0 && errno != EINTR) {
                exit_text_ = "ended";
            }
        }
    }
}

}  // namespace muse::agent
