#pragma once
// One file over HTTP(S) with libcurl: into `<dest>.part`, resumed with Range after a dropped
// connection or an earlier run, sha256 checked, then renamed to `dest`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace muse::pull {

struct download_progress {
    uint64_t done  = 0;  // bytes in the file so far, resumed ones included
    uint64_t total = 0;  // 0 while unknown
    double   rate  = 0;  // bytes per second received in this run
};

struct download_request {
    std::string url;
    std::string dest;               // the final path; the download goes to dest + ".part"
    std::string what;               // names the file in messages; the URL when empty
    std::string expected_sha256;    // hex; empty: the one the source publishes, if any
    std::string bearer_token;       // sent as Authorization (libcurl drops it on a redirect to another host)
    std::string auth_hint;          // the fix to name on HTTP 401/403
    std::string missing_hint;       // the fix to name on HTTP 404; "check the URL" when empty
    int32_t     tries      = 5;     // attempts for a dropped connection, each resuming where the last stopped
    int32_t     backoff_ms = 1000;  // the wait before the second attempt, doubled after each
    std::function<void(const download_progress &)> on_progress;  // at most ~10 calls a second
    const std::atomic<bool> *                      cancel = nullptr;
};

struct download_result {
    std::string path;
    uint64_t    size = 0;
    std::string sha256;                 // of the file, lower-case hex
    bool        verified      = false;  // sha256 matched the given or published one
    bool        already_there = false;  // dest existed and matched; nothing was downloaded
    std::string unverified_why;         // when not verified: why not
    uint64_t    resumed_from = 0;       // bytes of an earlier run's .part that were kept
    int32_t     attempts     = 0;
};

// Network and file errors (exit 3 in the CLI). The message names the file or host and the fix.
struct download_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The cancel flag turned true; the .part stays for the next run to resume.
struct download_cancelled : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws download_error, download_cancelled, or muse::input_error for a malformed expected_sha256.
download_result download_file(const download_request & req);

// Lower-case hex sha256 of a file (throws download_error when it cannot be read).
std::string file_sha256(const std::string & path);

}  // namespace muse::pull
