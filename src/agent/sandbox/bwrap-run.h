#pragma once
// One program run in a bubblewrap sandbox started for it, and killed with everything it started
// when it ends, times out or is cancelled.
//
// What the sandbox sees (deny by default, one thing opened at a time):
//   /usr, /bin, /sbin, /lib* read-only (directories or the same links as on the host);
//   from /etc only what programs need to load and draw: ld.so.*, alternatives, fonts,
//   matplotlibrc, localtime, mime.types, python3*; no passwd, shadow, hosts, resolv.conf;
//   a fresh /proc of its own pid namespace, a minimal /dev, size-capped tmpfs on /tmp and
//   /dev/shm, the spec's mounts, and a read-only root over all of it;
//   no network (a new network namespace with only its own loopback), new pid, ipc, uts and
//   user namespaces, no further user namespaces, a new session, a clean environment.
// Limits: rlimits on CPU time, address space, file size, open files, core dumps (none) and
// processes; a wall-clock timeout; output kept up to a cap and the rest read and dropped.
//
// Processes: RLIMIT_NPROC is checked per user namespace and uid (Linux >= 5.14), and the host
// sets it on the sandbox's first process after bwrap made the namespace and before anything
// runs (--block-fd), so a fork bomb stops at max_processes without touching the host's count.
// Root is exempt from RLIMIT_NPROC, so a host running as root first drops to `host_uid` (an
// otherwise unused uid) and bwrap makes its user namespace unprivileged; writable mounts are
// then handed to that uid. Mount sources root can reach but that uid cannot (a data dir under
// /root) are bound first onto a private staging dir in a mount namespace of the run's own.
//
// Ending: the sandbox's pid 1 (bwrap's reaper) is held by a pidfd; killing it makes the kernel
// kill every process of the pid namespace, and the run returns only after it has gone.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace muse::agent {

inline constexpr uint32_t SANDBOX_HOST_UID = 0x4D555345;  // "MUSE": used when the host runs as root

struct sandbox_limits {
    double   wall_secs        = 30;
    int      cpu_secs         = 30;
    uint64_t memory_bytes     = 2ull << 30;    // address space of each process
    int      max_processes    = 64;            // processes and threads in the sandbox
    uint64_t max_file_bytes   = 256ull << 20;  // largest file it may write
    int      max_open_files   = 256;
    uint64_t tmp_bytes        = 512ull << 20;  // each of /tmp and /dev/shm
    size_t   max_output_bytes = 64 << 10;      // kept of stdout and of stderr, each
};

// When the host runs as root the sandbox runs as host_uid: a writable mount is handed to that uid
// (chown), a read-only one must be readable by it (world-readable, like the system's files).
struct sandbox_mount {
    std::filesystem::path host;    // a directory or a file
    std::string           inside;  // absolute path in the sandbox
    bool                  writable = false;
};

struct sandbox_spec {
    std::vector<std::string>                         argv;  // argv[0]: a path inside the sandbox
    std::vector<sandbox_mount>                       mounts;
    std::string                                      cwd = "/";
    std::vector<std::pair<std::string, std::string>> env;  // the whole environment
    std::string                                      stdin_data;
    sandbox_limits                                   limits;
    uint32_t                                         host_uid = SANDBOX_HOST_UID;
};

struct sandbox_outcome {
    int         exit_code = -1;  // the program's, or 128 + signal when a signal killed it
    int         signal    = 0;   // the signal that killed it (from exit_code > 128), else 0
    bool        timed_out = false;
    bool        cancelled = false;
    std::string out, err;  // each capped at max_output_bytes
    bool        truncated    = false;
    uint64_t    output_bytes = 0;  // stdout + stderr, all that was written
    double      wall_secs    = 0;
};

// Runs spec.argv in a new sandbox and returns when it and every process it started are gone.
// `cancel` (may be null): when it becomes true the sandbox is killed within about 20 ms.
// Throws std::runtime_error for the host's failures: bwrap missing, namespaces refused, a mount
// source missing, argv[0] not found in the sandbox.
sandbox_outcome sandbox_run(const sandbox_spec & spec, const std::atomic<bool> * cancel = nullptr);

// Whether bwrap is installed and can make its namespaces here; `why` (may be null) gets the
// reason and the fix when not.
bool sandbox_available(std::string * why = nullptr);

}  // namespace muse::agent
