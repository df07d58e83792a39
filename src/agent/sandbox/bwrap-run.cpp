#include "agent/sandbox/bwrap-run.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "agent/sandbox/dir-walk.h"
#include "agent/sandbox/temp-dir.h"
#include "agent/sandbox/unique-fd.h"

namespace muse::agent {

namespace {

using steady = std::chrono::steady_clock;

constexpr int    SANDBOX_UID_INSIDE = 1000;
constexpr int    POLL_TICK_MS       = 20;  // how often cancel and the clock are looked at
constexpr size_t MAX_CHOWN_ENTRIES  = 100000;

// What programs need from /etc to load libraries (Debian's BLAS/LAPACK are alternatives links),
// draw text and tell the time; nothing with users, hosts or keys.
const char * const ETC_PATHS[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf",   "/etc/ld.so.conf.d", "/etc/alternatives",
    "/etc/fonts",       "/etc/matplotlibrc", "/etc/localtime",    "/etc/mime.types",
};
// Merged-/usr systems have these as links into /usr; older ones as directories.
const char * const ROOT_DIRS[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };

std::runtime_error sandbox_error(const std::string & what) {
    return std::runtime_error("sandbox: " + what);
}

std::string bwrap_find() {
    const char * path = std::getenv("PATH");
    std::string  dirs = path ? path : "";
    dirs += ":/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos)
            end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (!dir.empty() && dir[0] == '/') {
            std::string candidate = dir + "/bwrap";
            if (::access(candidate.c_str(), X_OK) == 0)
                return candidate;
        }
        start = end + 1;
    }
    return "";
}

int pidfd_open(pid_t pid) {
    return (int)::syscall(SYS_pidfd_open, pid, 0);
}

int pidfd_kill(int pidfd) {
    return (int)::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
}

// The parent pid of `pid` from /proc/<pid>/stat, or -1.
pid_t proc_parent(pid_t pid) {
    unique_fd fd(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return -1;
    char    buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n]             = 0;
    const char * paren = std::strrchr(buf, ')');  // the name may hold anything but not after this
    if (!paren)
        return -1;
    char state = 0;
    int  ppid  = -1;
    if (std::sscanf(paren + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

// Gives a writable mount to the sandbox's uid: its root and everything under it that is not
// already that uid's (files the host put there), never through a link.
void hand_to_uid(const std::filesystem::path & host, uid_t uid) {
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0)
        return;
    if (st.st_uid != uid || st.st_gid != uid)
        ::lchown(host.c_str(), uid, uid);
    if (!S_ISDIR(st.st_mode))
        return;
    dir_walk(host, MAX_CHOWN_ENTRIES, 64, [uid](const dir_walk_entry & e) {
        if (e.st.st_uid != uid || e.st.st_gid != uid)
            ::fchownat(e.dir_fd, e.name, uid, uid, AT_SYMLINK_NOFOLLOW);
    });
}

// Host root only: empty mount points under a 0711 temp dir that the sandbox's uid can reach; the
// run's own mount namespace binds the real sources onto them before bwrap starts.
class staging_dir {
  public:
    explicit staging_dir(const std::vector<sandbox_mount> & mounts) :
        root_(std::filesystem::temp_directory_path(), "muse-sandbox-") {
        ::chmod(root_.path().c_str(), 0711);
        for (size_t i = 0; i < mounts.size(); ++i) {
            std::filesystem::path point = root_.path() / ("m" + std::to_string(i));
            if (std::filesystem::is_directory(mounts[i].host)) {
                std::filesystem::create_directory(point);
            } else {
                unique_fd f(::open(point.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
            }
            points_.push_back(point.string());
        }
    }
    const std::string & point(size_t i) const { return points_[i]; }

  private:
    temp_dir                 root_;
    std::vector<std::string> points_;
};

// Everything the forked child needs, prepared before fork: after it only async-signal-safe
// calls run (the parent is multi-threaded).
struct child_plan {
    const char *              bwrap;
    std::vector<char *>       argv;
    std::vector<char *>       envp;
    int                       fds[5];  // become 0 stdin, 1 stdout, 2 stderr, 3 json status, 4 block
    std::vector<const char *> bind_src, bind_dst;
    bool                      drop_root = false;
    uid_t                     uid       = 0;
    rlimit                    as {}, cpu {}, fsize {}, core {}, nofile {};
    pid_t                     parent = 0;
};

[[noreturn]] void child_fail(const char * what) {
    const int e = errno;
    char      buf[200];
    size_t    n   = 0;
    auto      put = [&](const char * s) {
        while (*s && n < sizeof buf - 1)
            buf[n++] = *s++;
    };
    put("muse sandbox: ");
    put(what);
    put(" failed: ");
    put(::strerrordesc_np(e) ? ::strerrordesc_np(e) : "error");
    put("\n");
    (void)!::write(2, buf, n);
    ::_exit(127);
}

[[noreturn]] void child_exec(const child_plan & p) {
    // The pipes to 0..4, everything else closed (descriptors other code opened without CLOEXEC).
    int high[5];
    for (int i = 0; i < 5; ++i) {
        high[i] = ::fcntl(p.fds[i], F_DUPFD, 64);
        if (high[i] < 0)
            child_fail("dup");
    }
    for (int i = 0; i < 5; ++i) {
        if (::dup2(high[i], i) < 0)
            child_fail("dup2");
    }
    if (::syscall(SYS_close_range, 5u, ~0u, 0u) != 0) {
        for (int fd = 5; fd < 65536; ++fd)
            ::close(fd);
    }
    ::setsid();  // the terminal's Ctrl-C goes to muse, which cancels; not straight to bwrap

    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) {
        if (s != SIGKILL && s != SIGSTOP)
            ::sigaction(s, &dfl, nullptr);
    }

    if (!p.bind_src.empty()) {
        if (::unshare(CLONE_NEWNS) != 0)
            child_fail("a mount namespace for the staging binds (unshare)");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            child_fail("making mounts private");
        for (size_t i = 0; i < p.bind_src.size(); ++i) {
            if (::mount(p.bind_src[i], p.bind_dst[i], nullptr, MS_BIND, nullptr) != 0)
                child_fail("a staging bind");
        }
    }
    if (::setrlimit(RLIMIT_AS, &p.as) != 0 || ::setrlimit(RLIMIT_CPU, &p.cpu) != 0 ||
        ::setrlimit(RLIMIT_FSIZE, &p.fsize) != 0 || ::setrlimit(RLIMIT_CORE, &p.core) != 0 ||
        ::setrlimit(RLIMIT_NOFILE, &p.nofile) != 0) {
        child_fail("setrlimit");
    }
    if (p.drop_root) {
        if (::setgroups(0, nullptr) != 0)
            child_fail("setgroups");
        if (::setresgid(p.uid, p.uid, p.uid) != 0)
            child_fail("setresgid");
        if (::setresuid(p.uid, p.uid, p.uid) != 0)
            child_fail("setresuid");
    }
    // After the uid change, which clears it: the sandbox dies with the thread that runs it.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        child_fail("prctl");
    if (::getppid() != p.parent)
        ::_exit(127);
    ::execve(p.bwrap, p.argv.data(), p.envp.data());
    child_fail("exec bwrap");
}

// Sets RLIMIT_NPROC of the sandbox's first process. A host running as root without
// CAP_SYS_RESOURCE (a container) may not set another uid's limits, but that uid may: a short
// child takes it on to do so.
int nproc_set(pid_t target, int max_processes, bool as_uid, uid_t uid) {
    const rlimit nproc = { (rlim_t)max_processes, (rlim_t)max_processes };
    if (::prlimit(target, RLIMIT_NPROC, &nproc, nullptr) == 0)
        return 0;
    if (!as_uid)
        return errno;
    const pid_t helper = ::fork();
    if (helper < 0)
        return errno;
    if (helper == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) {
            ::_exit(errno & 0xff);
        }
        ::_exit(::prlimit(target, RLIMIT_NPROC, &nproc, nullptr) == 0 ? 0 : (errno & 0xff));
    }
    int st = 0;
    while (::waitpid(helper, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : EPERM;
}

void fd_nonblock(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A number after `"key":` in bwrap's JSON status text, or -1.
long json_number(const std::string & text, const char * key) {
    const std::string k   = std::string("\"") + key + "\"";
    size_t            pos = text.find(k);
    if (pos == std::string::npos)
        return -1;
    pos = text.find(':', pos + k.size());
    if (pos == std::string::npos)
        return -1;
    const char * s   = text.c_str() + pos + 1;
    char *       end = nullptr;
    long         v   = std::strtol(s, &end, 10);
    if (end == s)
        return -1;
    return v;
}

std::vector<std::string> bwrap_args(const std::string & bwrap, const sandbox_spec & spec,
                                    const std::optional<staging_dir> & stage) {
    const sandbox_limits &   lim = spec.limits;
    std::vector<std::string> a   = {
          bwrap,
          "--unshare-user",
          "--unshare-pid",
          "--unshare-net",
          "--unshare-ipc",
          "--unshare-uts",
          "--unshare-cgroup-try",
          "--disable-userns",
          "--die-with-parent",
          "--new-session",
          "--uid",
          std::to_string(SANDBOX_UID_INSIDE),
          "--gid",
          std::to_string(SANDBOX_UID_INSIDE),
          "--hostname",
          "sandbox",
          "--ro-bind",
          "/usr",
          "/usr",
    };
    for (const char * d : ROOT_DIRS) {
        struct stat st;
        if (::lstat(d, &st) != 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            std::string     target = std::filesystem::read_symlink(d, ec).string();
            if (!ec)
                a.insert(a.end(), { "--symlink", target, d });
        } else if (S_ISDIR(st.st_mode)) {
            a.insert(a.end(), { "--ro-bind", d, d });
        }
    }
    for (const char * p : ETC_PATHS)
        a.insert(a.end(), { "--ro-bind-try", p, p });
    std::error_code ec;
    for (const auto & e : std::filesystem::directory_iterator("/etc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("python3", 0) == 0)
            a.insert(a.end(), { "--ro-bind-try", e.path().string(), e.path().string() });
    }
    const std::string tmp_size = std::to_string(lim.tmp_bytes);
    a.insert(a.end(), { "--proc", "/proc", "--dev", "/dev", "--size", tmp_size, "--tmpfs", "/dev/shm", "--size",
                        tmp_size, "--tmpfs", "/tmp" });
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
        const sandbox_mount & m   = spec.mounts[i];
        const std::string     src = stage ? stage->point(i) : m.host.string();
        a.insert(a.end(), { m.writable ? "--bind" : "--ro-bind", src, m.inside });
    }
    // The root and /dev are tmpfs that bwrap made: read-only, or a sandbox could fill the host's
    // memory through them (/tmp and /dev/shm are separate mounts with a size).
    a.insert(a.end(), { "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", spec.cwd, "--clearenv" });
    for (const auto & [k, v] : spec.env)
        a.insert(a.end(), { "--setenv", k, v });
    a.insert(a.end(), { "--json-status-fd", "3", "--block-fd", "4", "--" });
    a.insert(a.end(), spec.argv.begin(), spec.argv.end());
    return a;
}

std::string bwrap_failure_hint(const std::string & err) {
    if (err.find("namespace") != std::string::npos || err.find("uid map") != std::string::npos ||
        err.find("Operation not permitted") != std::string::npos) {
        return " (bubblewrap needs unprivileged user namespaces: set the sysctls "
               "kernel.unprivileged_userns_clone=1 and user.max_user_namespaces=10000, or allow them in the "
               "container or AppArmor profile)";
    }
    return "";
}

void append_capped(std::string & keep, const char * data, size_t n, size_t cap, bool & truncated) {
    const size_t room = keep.size() < cap ? cap - keep.size() : 0;
    if (n > room)
        truncated = true;
    keep.append(data, std::min(n, room));
}

}  // namespace

sandbox_outcome sandbox_run(const sandbox_spec & spec, const std::atomic<bool> * cancel) {
    if (spec.argv.empty())
        throw sandbox_error("nothing to run (empty argv)");
    for (const auto & m : spec.mounts) {
        if (m.inside.empty() || m.inside[0] != '/' || m.inside == "/") {
            throw sandbox_error("mount target '" + m.inside + "' must be an absolute path below /");
        }
        if (!std::filesystem::exists(m.host))
            throw sandbox_error("mount source " + m.host.string() + " does not exist");
    }
    const std::string bwrap = bwrap_find();
    if (bwrap.empty()) {
        throw sandbox_error("bubblewrap (bwrap) is not installed: install bubblewrap (apt-get install bubblewrap)");
    }
    const bool                 as_root = ::geteuid() == 0;
    std::optional<staging_dir> stage;
    if (as_root) {
        if (!spec.mounts.empty())
            stage.emplace(spec.mounts);
        for (const auto & m : spec.mounts) {
            if (m.writable)
                hand_to_uid(m.host, spec.host_uid);
        }
    }
    const std::vector<std::string> args = bwrap_args(bwrap, spec, stage);

    int in_pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
        throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    unique_fd in_host(in_pair[0]), in_child(in_pair[1]);
    ::shutdown(in_child.get(), SHUT_WR);
    if (spec.stdin_data.empty())
        ::shutdown(in_host.get(), SHUT_WR);
    fd_pipe out = fd_pipe_open(), err = fd_pipe_open(), status = fd_pipe_open(), block = fd_pipe_open();

    child_plan plan;
    plan.bwrap = bwrap.c_str();
    for (const auto & s : args)
        plan.argv.push_back(const_cast<char *>(s.c_str()));
    plan.argv.push_back(nullptr);
    static const char path_env[] = "PATH=/usr/bin:/bin";
    plan.envp                    = { const_cast<char *>(path_env), nullptr };
    plan.fds[0]                  = in_child.get();
    plan.fds[1]                  = out.write.get();
    plan.fds[2]                  = err.write.get();
    plan.fds[3]                  = status.write.get();
    plan.fds[4]                  = block.read.get();
    if (stage) {
        for (size_t i = 0; i < spec.mounts.size(); ++i) {
            plan.bind_src.push_back(spec.mounts[i].host.c_str());
            plan.bind_dst.push_back(stage->point(i).c_str());
        }
    }
    const sandbox_limits & lim = spec.limits;
    plan.drop_root             = as_root;
    plan.uid                   = spec.host_uid;
    plan.as                    = { (rlim_t)lim.memory_bytes, (rlim_t)lim.memory_bytes };
    plan.cpu                   = { (rlim_t)lim.cpu_secs, (rlim_t)lim.cpu_secs + 1 };
    plan.fsize                 = { (rlim_t)lim.max_file_bytes, (rlim_t)lim.max_file_bytes };
    plan.core                  = { 0, 0 };
    plan.nofile                = { (rlim_t)lim.max_open_files, (rlim_t)lim.max_open_files };
    plan.parent                = ::getpid();

    const steady::time_point start = steady::now();
    const pid_t              pid   = ::fork();
    if (pid < 0)
        throw std::system_error(errno, std::generic_category(), "fork for bwrap");
    if (pid == 0)
        child_exec(plan);

    in_child.reset();
    out.write.reset();
    err.write.reset();
    status.write.reset();
    block.read.reset();
    fd_nonblock(in_host.get());
    fd_nonblock(out.read.get());
    fd_nonblock(err.read.get());
    fd_nonblock(status.read.get());

    sandbox_outcome r;
    unique_fd       bwrap_pidfd(pidfd_open(pid));
    unique_fd       init_pidfd;  // the sandbox's pid 1: killing it ends the pid namespace
    std::string     status_text, host_error;
    bool            released = false, exited = false, killed = false;
    int             wstatus = 0;
    size_t          in_off  = 0;
    const auto      wall =
        std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(std::max(0.0, lim.wall_secs)));
    const steady::time_point          deadline = start + wall;
    std::optional<steady::time_point> drain_until;
    std::vector<char>                 buf(64 << 10);

    auto kill_sandbox = [&] {
        if (init_pidfd.valid())
            pidfd_kill(init_pidfd.get());
        else if (!exited)
            ::kill(pid, SIGKILL);
        killed = true;
    };
    // The pid 1 bwrap reported: held by a pidfd (checked to be bwrap's child, so never a reused
    // pid), given the process limit, then let go (--block-fd) to run the program.
    auto release_sandbox = [&] {
        released            = true;
        const long init_pid = json_number(status_text, "child-pid");
        if (init_pid <= 0) {
            host_error = "bwrap reported no child pid";
        } else {
            init_pidfd.reset(pidfd_open((pid_t)init_pid));
            if (!init_pidfd.valid() || proc_parent((pid_t)init_pid) != pid) {
                host_error = "the sandbox's first process could not be held (pidfd_open)";
            } else if (int e = nproc_set((pid_t)init_pid, lim.max_processes, as_root, spec.host_uid); e != 0) {
                host_error = std::string("the process limit could not be set: ") + std::strerror(e);
            }
        }
        if (!host_error.empty()) {
            kill_sandbox();
            return;
        }
        (void)!::write(block.write.get(), "x", 1);
        block.write.reset();
    };

    for (;;) {
        if (!exited) {
            const pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
            if (w == pid || (w < 0 && errno == ECHILD)) {
                exited = true;
                // bwrap leaves when the program does; what it started (a daemon) dies with pid 1.
                if (init_pidfd.valid())
                    pidfd_kill(init_pidfd.get());
                drain_until = steady::now() + std::chrono::seconds(5);
            }
        }
        if (exited && !out.read.valid() && !err.read.valid() && !status.read.valid())
            break;
        const steady::time_point now = steady::now();
        if (drain_until && now > *drain_until)
            break;
        if (!killed && !exited) {
            if (cancel && cancel->load()) {
                r.cancelled = true;
                kill_sandbox();
            } else if (now >= deadline) {
                r.timed_out = true;
                kill_sandbox();
            }
        }

        pollfd pfds[5];
        int    n   = 0;
        auto   add = [&](const unique_fd & fd, short events) {
            if (fd.valid())
                pfds[n++] = { fd.get(), events, 0 };
        };
        add(out.read, POLLIN);
        add(err.read, POLLIN);
        add(status.read, POLLIN);
        if (in_off < spec.stdin_data.size())
            add(in_host, POLLOUT);
        if (!exited)
            add(bwrap_pidfd, POLLIN);
        int timeout = POLL_TICK_MS;
        if (!killed && now < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
            timeout         = (int)std::min<long long>(timeout, left);
        }
        if (::poll(pfds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }

        auto drain = [&](unique_fd & fd, std::string * keep) {
            for (;;) {
                const ssize_t got = ::read(fd.get(), buf.data(), buf.size());
                if (got > 0) {
                    if (keep) {
                        r.output_bytes += (uint64_t)got;
                        append_capped(*keep, buf.data(), (size_t)got, lim.max_output_bytes, r.truncated);
                    } else {
                        status_text.append(buf.data(), (size_t)got);
                    }
                    continue;
                }
                if (got == 0 || (errno != EAGAIN && errno != EINTR))
                    fd.reset();
                return;
            }
        };
        if (out.read.valid())
            drain(out.read, &r.out);
        if (err.read.valid())
            drain(err.read, &r.err);
        if (status.read.valid())
            drain(status.read, nullptr);
        if (!released && !killed && status_text.find("child-pid") != std::string::npos &&
            status_text.find('}') != std::string::npos) {
            release_sandbox();
        }
        if (in_off < spec.stdin_data.size() && in_host.valid()) {
            const ssize_t put = ::send(in_host.get(), spec.stdin_data.data() + in_off, spec.stdin_data.size() - in_off,
                                       MSG_NOSIGNAL | MSG_DONTWAIT);
            if (put > 0)
                in_off += (size_t)put;
            else if (put < 0 && errno != EAGAIN && errno != EINTR)
                in_off = spec.stdin_data.size();
            if (in_off >= spec.stdin_data.size())
                ::shutdown(in_host.get(), SHUT_WR);
        }
    }
    if (!exited) {  // a pipe held past the drain time: should not happen, but never leave bwrap
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &wstatus, 0);
    }
    // Return only once the pid namespace is empty: pid 1 exits after the kernel killed the rest.
    if (init_pidfd.valid()) {
        pidfd_kill(init_pidfd.get());
        pollfd p = { init_pidfd.get(), POLLIN, 0 };
        if (::poll(&p, 1, 10000) <= 0)
            host_error = "the sandbox's processes did not end within 10 s";
    }
    r.wall_secs = std::chrono::duration<double>(steady::now() - start).count();
    if (!host_error.empty())
        throw sandbox_error(host_error);

    const long code = json_number(status_text, "exit-code");
    if (code >= 0) {
        r.exit_code = (int)code;
    } else if (killed) {
        r.exit_code = 128 + SIGKILL;
    } else {
        std::string why = r.err;
        while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
            why.pop_back();
        if (why.empty() && WIFEXITED(wstatus))
            why = "bwrap exited with status " + std::to_string(WEXITSTATUS(wstatus));
        throw sandbox_error("bubblewrap could not start the sandbox: " + why + bwrap_failure_hint(why));
    }
    if (r.exit_code > 128 && r.exit_code < 128 + 65)
        r.signal = r.exit_code - 128;
    return r;
}

bool sandbox_available(std::string * why) {
    sandbox_spec spec;
    spec.argv             = { "/usr/bin/true" };
    spec.limits.wall_secs = 20;
    try {
        const sandbox_outcome r = sandbox_run(spec);
        if (r.exit_code == 0)
            return true;
        if (why)
            *why = "a test sandbox exited with " + std::to_string(r.exit_code) + ": " + r.err;
    } catch (const std::exception & e) {
        if (why)
            *why = e.what();
    }
    return false;
}

}  // namespace muse::agent
