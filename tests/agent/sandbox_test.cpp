// The sandbox on the real bwrap: each escape attempt must stay contained, with this process
// fine afterwards. Each test would fail if the thing it tries got through.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "agent/sandbox/bwrap-run.h"

using namespace muse::agent;

namespace {

std::string unique_marker(const char * what) {
    std::random_device rd;
    return std::string("muse-") + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// Host processes whose command line holds `marker`.
std::vector<int> host_processes_with(const std::string & marker) {
    std::vector<int> pids;
    DIR *            d = ::opendir("/proc");
    while (d) {
        const dirent * e = ::readdir(d);
        if (!e)
            break;
        const int pid = std::atoi(e->d_name);
        if (pid <= 0)
            continue;
        std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
        std::string   cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (cmd.find(marker) != std::string::npos)
            pids.push_back(pid);
    }
    if (d)
        ::closedir(d);
    return pids;
}

// The real uid of a host process, from /proc/<pid>/status.
long host_uid_of(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string   line;
    while (std::getline(f, line)) {
        if (line.rfind("Uid:", 0) == 0)
            return std::atol(line.c_str() + 4);
    }
    return -1;
}

sandbox_spec python_spec(const std::string & code) {
    sandbox_spec spec;
    spec.argv             = { "/usr/bin/python3", "-c", code };
    spec.limits.wall_secs = 10;
    return spec;
}

struct host_dir {
    std::filesystem::path path;
    host_dir() {
        std::string t = (std::filesystem::temp_directory_path() / "muse-sbx-test-XXXXXX").string();
        EXPECT_NE(::mkdtemp(t.data()), nullptr);
        path = t;
    }
    ~host_dir() { std::filesystem::remove_all(path); }
};

bool this_process_can_fork() {
    return std::system("/bin/true") == 0;
}

}  // namespace

TEST(sandbox, is_available_here) {
    std::string why;
    EXPECT_TRUE(sandbox_available(&why)) << why;
}

TEST(sandbox, returns_output_exit_code_and_stdin) {
    sandbox_spec spec;
    spec.argv               = { "/bin/sh", "-c", "cat; echo out; echo err >&2; exit 3" };
    spec.stdin_data         = "from stdin\n";
    const sandbox_outcome r = sandbox_run(spec);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "from stdin\nout\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_FALSE(r.timed_out);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.output_bytes, 19u);
}

TEST(sandbox, host_failures_throw) {
    sandbox_spec spec;
    spec.argv = { "/no/such/program" };
    EXPECT_THROW(sandbox_run(spec), std::runtime_error);
    spec.argv   = { "/bin/true" };
    spec.mounts = { { "/no/such/dir", "/mnt/data", true } };
    EXPECT_THROW(sandbox_run(spec), std::runtime_error);
}

TEST(sandbox, cannot_read_host_files_outside_its_mounts) {
    host_dir          secret_dir;
    const std::string secret = unique_marker("secret");
    std::ofstream(secret_dir.path / "secret.txt") << secret;
    const std::string paths[] = { (secret_dir.path / "secret.txt").string(),
                                  "/etc/shadow",
                                  "/etc/passwd",
                                  "/root/.bashrc",
                                  "/proc/1/root/etc/shadow",
                                  "/proc/self/root/../../etc/shadow" };
    std::string       code    = "import os\nfor p in [";
    for (const auto & p : paths)
        code += "'" + p + "',";
    code +=
        "]:\n    try:\n        print('READ', p, open(p).read())\n    except Exception as e:\n"
        "        print('DENIED', p, type(e).__name__)\n"
        "for d in ['/root', '/home', '/work', '/var', '/srv', '" +
        secret_dir.path.string() +
        "']:\n    print('EXISTS' if os.path.exists(d) else 'ABSENT', d)\n"
        "print('CONTROL', len(open('/usr/bin/python3', 'rb').read(4)))\n";
    const sandbox_outcome r = sandbox_run(python_spec(code));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("READ"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("EXISTS"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(secret), std::string::npos);
    EXPECT_NE(r.out.find("CONTROL 4"), std::string::npos) << r.out;  // the system is there, read-only
}

TEST(sandbox, cannot_write_outside_its_mounts) {
    host_dir          outside, data;
    const std::string targets[] = { "/usr/x",
                                    "/usr/bin/x",
                                    "/etc/x",
                                    "/x",
                                    "/mnt/x",
                                    "/dev/x",
                                    "/run/x",
                                    "/proc/sys/kernel/core_pattern",
                                    "/proc/sysrq-trigger",
                                    (outside.path / "x").string() };
    std::string       code      = "import os\nfor p in [";
    for (const auto & t : targets)
        code += "'" + t + "',";
    code +=
        "]:\n    try:\n        open(p, 'w').write('1')\n        print('WROTE', p)\n    except Exception as e:\n"
        "        print('DENIED', p, type(e).__name__)\n"
        "open('/tmp/t', 'w').write('tmp is writable')\nopen('/mnt/data/ok', 'w').write('data is writable')\n";
    sandbox_spec spec       = python_spec(code);
    spec.mounts             = { { data.path, "/mnt/data", true } };
    const sandbox_outcome r = sandbox_run(spec);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("WROTE"), std::string::npos) << r.out;
    EXPECT_TRUE(std::filesystem::is_empty(outside.path));
    EXPECT_FALSE(std::filesystem::exists("/usr/x"));
    EXPECT_TRUE(std::filesystem::exists(data.path / "ok"));
}

TEST(sandbox, read_only_mounts_stay_read_only) {
    host_dir data;
    std::ofstream(data.path / "in.txt") << "input";
    std::filesystem::permissions(data.path, std::filesystem::perms(0755));  // readable by the sandbox's uid
    sandbox_spec spec = python_spec(
        "print(open('/in/in.txt').read())\ntry:\n    open('/in/new', 'w')\n    print('WROTE')\n"
        "except OSError as e:\n    print('DENIED', e.errno)\n");
    spec.mounts             = { { data.path, "/in", false } };
    const sandbox_outcome r = sandbox_run(spec);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("input"), std::string::npos);
    EXPECT_NE(r.out.find("DENIED"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(data.path / "new"));
}

TEST(sandbox, tmp_is_size_capped) {
    sandbox_spec spec = python_spec(
        "try:\n    open('/tmp/big', 'wb').write(b'x' * (64 << 20))\n    print('WROTE')\n"
        "except OSError as e:\n    print('FULL', e.errno)\n");
    spec.limits.tmp_bytes   = 16 << 20;
    const sandbox_outcome r = sandbox_run(spec);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("FULL 28"), std::string::npos) << r.out;  // ENOSPC
}

TEST(sandbox, has_no_network) {
    // A TCP listener on the host's loopback and an abstract unix socket: neither may be reached.
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(tcp, 0);
    sockaddr_in a {};
    a.sin_family      = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(tcp, (sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(::listen(tcp, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(tcp, (sockaddr *)&a, &len);
    const int port = ntohs(a.sin_port);

    const std::string abstract_name = unique_marker("abstract");
    const int         unx           = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un       u {};
    u.sun_family = AF_UNIX;
    std::memcpy(u.sun_path + 1, abstract_name.data(), abstract_name.size());
    const socklen_t ulen = (socklen_t)(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
    ASSERT_EQ(::bind(unx, (sockaddr *)&u, ulen), 0);
    ASSERT_EQ(::listen(unx, 8), 0);

    const std::string code =
        "import socket\n"
        "def attempt(what, f):\n    try:\n        f()\n        print('REACHED', what)\n"
        "    except OSError as e:\n        print('BLOCKED', what, e)\n"
        "attempt('tcp', lambda: socket.create_connection(('127.0.0.1', " +
        std::to_string(port) +
        "), timeout=2))\n"
        "attempt('dns', lambda: socket.getaddrinfo('example.com', 80))\n"
        "attempt('outside', lambda: socket.create_connection(('1.1.1.1', 53), timeout=2))\n"
        "def unix():\n    s = socket.socket(socket.AF_UNIX)\n    s.connect('\\0" +
        abstract_name + "')\nattempt('abstract', unix)\n";
    const sandbox_outcome r = sandbox_run(python_spec(code));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("REACHED"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("BLOCKED tcp"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("BLOCKED abstract"), std::string::npos) << r.out;
    EXPECT_LT(::accept(tcp, nullptr, nullptr), 0);  // nothing arrived on the host's side
    EXPECT_LT(::accept(unx, nullptr, nullptr), 0);
    ::close(tcp);
    ::close(unx);
}

TEST(sandbox, proc_shows_only_the_sandbox) {
    const std::string code =
        "import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\nprint('PIDS', len(pids))\n"
        "for p in pids:\n    try:\n        print('CMD', open('/proc/%s/cmdline' % p).read().replace('\\0', ' '))\n"
        "    except OSError:\n        pass\n"
        "print('ROOT', sorted(os.listdir('/proc/1/root')) == sorted(os.listdir('/')))\n"
        "print('FDS', sorted(int(f) for f in os.listdir('/proc/self/fd')))\n";
    const sandbox_outcome r = sandbox_run(python_spec(code));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // bwrap's pid 1 and python: no host process, and not this test.
    EXPECT_NE(r.out.find("PIDS 2\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("muse-sandbox-tests"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("ROOT True"), std::string::npos) << r.out;
    // No descriptor of the host's leaked in (3 is the listing's own).
    EXPECT_NE(r.out.find("FDS [0, 1, 2, 3]"), std::string::npos) << r.out;
}

TEST(sandbox, runs_as_an_unprivileged_uid) {
    const std::string marker = unique_marker("uid");
    sandbox_spec      spec;
    spec.argv                  = { "/bin/sh", "-c", "echo uid $(id -u); sleep 1", marker };
    std::atomic<bool>     done = false;
    std::vector<long>     uids;
    std::thread           watch([&] {
        while (!done && uids.empty()) {
            for (int pid : host_processes_with(marker))
                uids.push_back(host_uid_of(pid));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    const sandbox_outcome r = sandbox_run(spec);
    done                    = true;
    watch.join();
    EXPECT_EQ(r.out, "uid 1000\n");
    ASSERT_FALSE(uids.empty());
    for (long uid : uids) {
        EXPECT_NE(uid, 0);  // never root on the host, so RLIMIT_NPROC applies
        if (::geteuid() == 0) {
            EXPECT_EQ(uid, (long)SANDBOX_HOST_UID);
        } else {
            EXPECT_EQ(uid, (long)::getuid());
        }
    }
}

TEST(sandbox, process_limit_is_enforced) {
    // Children that wait: how many could be made before fork failed?
    sandbox_spec spec = python_spec(
        "import os, time\nn = 0\ntry:\n    for i in range(1000):\n        if os.fork() == 0:\n"
        "            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError as e:\n"
        "    print('FAILED', e.errno)\nprint('FORKED', n)\n");
    spec.limits.max_processes = 16;
    const sandbox_outcome r   = sandbox_run(spec);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_NE(r.out.find("FAILED 11"), std::string::npos) << r.out;  // EAGAIN
    const int forked = std::atoi(r.out.c_str() + r.out.find("FORKED") + 7);
    EXPECT_GE(forked, 8);
    EXPECT_LE(forked, 15);  // bwrap's pid 1 and python count too
}

TEST(sandbox, fork_bomb_is_contained) {
    const std::string marker = unique_marker("bomb");
    sandbox_spec      spec   = python_spec(
               "import os\nwhile True:\n    try:\n        os.fork()\n"
                      "    except OSError:\n        pass\n");
    spec.argv.push_back(marker);
    spec.limits.wall_secs     = 3;
    spec.limits.max_processes = 32;
    const auto            t0  = std::chrono::steady_clock::now();
    const sandbox_outcome r   = sandbox_run(spec);
    const double          s   = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(s, 6.0);
    EXPECT_TRUE(host_processes_with(marker).empty());
    EXPECT_TRUE(this_process_can_fork());
}

TEST(sandbox, memory_limit_is_enforced) {
    sandbox_spec spec = python_spec(
        "small = bytearray(64 << 20)\nprint('SMALL OK')\ntry:\n    big = bytearray(8 << 30)\n    print('BIG OK')\n"
        "except MemoryError:\n    print('BIG DENIED')\n");
    spec.limits.memory_bytes = 1ull << 30;
    const sandbox_outcome r  = sandbox_run(spec);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("SMALL OK"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("BIG DENIED"), std::string::npos) << r.out;
}

TEST(sandbox, file_size_limit_is_enforced) {
    host_dir     data;
    sandbox_spec spec          = python_spec("open('/mnt/data/big', 'wb').write(b'x' * (8 << 20))\n");
    spec.mounts                = { { data.path, "/mnt/data", true } };
    spec.limits.max_file_bytes = 1 << 20;
    const sandbox_outcome r    = sandbox_run(spec);
    // Python ignores SIGXFSZ and gets EFBIG; other programs are killed by it.
    EXPECT_TRUE(r.signal == SIGXFSZ || r.err.find("[Errno 27] File too large") != std::string::npos) << r.err;
    EXPECT_LE(std::filesystem::file_size(data.path / "big"), 1u << 20);
}

TEST(sandbox, infinite_loop_times_out) {
    sandbox_spec spec       = python_spec("while True:\n    pass\n");
    spec.limits.wall_secs   = 1;
    const sandbox_outcome r = sandbox_run(spec);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_GE(r.wall_secs, 0.9);
    EXPECT_LT(r.wall_secs, 2.5);
}

TEST(sandbox, huge_output_is_capped) {
    sandbox_spec spec = python_spec(
        "import sys\nchunk = b'x' * (1 << 20)\nfor i in range(100):\n    sys.stdout.buffer.write(chunk)\n"
        "sys.stderr.write('done')\n");
    const sandbox_outcome r = sandbox_run(spec);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(r.out.size(), spec.limits.max_output_bytes);
    EXPECT_EQ(r.err, "done");
    EXPECT_EQ(r.output_bytes, (100u << 20) + 4);
    EXPECT_LT(r.wall_secs, 5);
}

TEST(sandbox, nothing_is_left_running) {
    // A new-session child and a double-forked daemon, both meant to outlive the call.
    const std::string marker = unique_marker("left");
    sandbox_spec      spec   = python_spec(
               "import os, subprocess, sys\n"
                      "subprocess.Popen(['/bin/sh', '-c', 'sleep 1000', sys.argv[1] + '-popen'], start_new_session=True)\n"
                      "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                      "        os.execv('/bin/sh', ['/bin/sh', '-c', 'sleep 1000', sys.argv[1] + '-daemon'])\n    os._exit(0)\n"
                      "print('parent done')\n");
    spec.argv.push_back(marker);
    const sandbox_outcome r = sandbox_run(spec);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(r.timed_out);
    EXPECT_LT(r.wall_secs, 5);
    EXPECT_TRUE(host_processes_with(marker).empty());
}

TEST(sandbox, cancel_stops_it_quickly) {
    std::atomic<bool> cancel = false;
    sandbox_spec      spec   = python_spec("while True:\n    pass\n");
    spec.limits.wall_secs    = 30;
    std::thread           setter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    const auto            t0 = std::chrono::steady_clock::now();
    const sandbox_outcome r  = sandbox_run(spec, &cancel);
    const double          s  = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    setter.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_LT(s, 0.3 + 0.2);
}
