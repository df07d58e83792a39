#include "pull/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <thread>

#include "engine/error.h"
#include "engine/text-trim.h"
#include "pull/curl-handle.h"
#include "pull/sha256.h"
#include "pull/unique-fd.h"

namespace muse::pull {

namespace {

using clock_type = std::chrono::steady_clock;

// What the headers of one request said. Redirects count too: Hugging Face puts the file's sha256
// (X-Linked-ETag) and size (X-Linked-Size) on the redirect to its CDN, not on the file itself.
struct response_info {
    bool        reached = false;  // a status line arrived: the server is there
    long        status  = 0;      // of the latest response in the chain
    std::string etag;             // of the latest response
    std::string linked_etag;      // from any response in the chain
    uint64_t    linked_size    = 0;
    bool        has_length     = false;
    uint64_t    content_length = 0;
    bool        has_range      = false;  // Content-Range: bytes START-END/TOTAL or bytes */TOTAL
    uint64_t    range_start    = 0;
    uint64_t    range_total    = 0;  // 0 when '*'
};

std::string lower(std::string s) {
    for (auto & c : s) {
        c = (char)std::tolower((unsigned char)c);
    }
    return s;
}

uint64_t to_u64(const std::string & s) {
    return std::strtoull(s.c_str(), nullptr, 10);
}

void response_header_parse(response_info & r, const std::string & line) {
    if (line.rfind("HTTP/", 0) == 0) {  // the next response in a redirect chain: only X-Linked-* carry over
        response_info next;
        next.reached     = true;
        const size_t sp  = line.find(' ');
        next.status      = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
        next.linked_etag = r.linked_etag;
        next.linked_size = r.linked_size;
        r                = next;
        return;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
        return;
    }
    const std::string name  = lower(trim(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "etag") {
        r.etag = value;
    } else if (name == "x-linked-etag") {
        r.linked_etag = value;
    } else if (name == "x-linked-size") {
        r.linked_size = to_u64(value);
    } else if (name == "content-length") {
        r.has_length     = true;
        r.content_length = to_u64(value);
    } else if (name == "content-range" && lower(value).rfind("bytes ", 0) == 0) {
        const std::string spec  = value.substr(6);
        const size_t      slash = spec.find('/');
        r.has_range             = true;
        r.range_start           = spec[0] == '*' ? 0 : to_u64(spec);
        r.range_total           = slash == std::string::npos ? 0 : to_u64(spec.substr(slash + 1));
    }
}

// An ETag that is a sha256: Hugging Face's LFS files carry `"<sha256>"` (sometimes weak, W/"...").
std::string etag_sha256(std::string tag) {
    if (tag.rfind("W/", 0) == 0) {
        tag = tag.substr(2);
    }
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
        tag = tag.substr(1, tag.size() - 2);
    }
    return sha256_hex_valid(tag) ? lower(tag) : "";
}

std::string published_sha256(const response_info & r) {
    const std::string linked = etag_sha256(r.linked_etag);
    return linked.empty() ? etag_sha256(r.etag) : linked;
}

// The connection went away or stalled mid-transfer: worth resuming.
bool curl_code_dropped(CURLcode rc) {
    switch (rc) {
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
            return true;
        default:
            return false;
    }
}

// The host could not be reached at all.
bool curl_code_unreachable(CURLcode rc) {
    return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_COULDNT_CONNECT ||
           rc == CURLE_OPERATION_TIMEDOUT;
}

std::string size_text(uint64_t bytes) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.1f MiB", bytes / double(1 << 20));
    return buf;
}

class download_job {
  public:
    explicit download_job(const download_request & req) :
        req_(req),
        what_(req.what.empty() ? req.url : req.what),
        part_path_(req.dest + ".part"),
        handle_(curl_easy_make()),
        start_(clock_type::now()) {
        if (!req_.bearer_token.empty()) {
            curl_slist_add(headers_, "Authorization: Bearer " + req_.bearer_token);
        }
    }

    download_result run();

    // A run that ends before any byte arrived leaves no empty .part behind (only the run that
    // holds its lock may remove it).
    void part_discard_if_empty() noexcept {
        struct stat st;
        if (part_ && done_ == 0 && fstat(part_.get(), &st) == 0 && st.st_size == 0) {
            unlink(part_path_.c_str());
        }
    }

  private:
    // "; 12.0 MiB kept in 'x.part' — run the same command again to resume", or nothing when
    // nothing came.
    std::string kept_note() const {
        return done_ == 0 ? std::string() :
                            "; " + size_text(done_) + " kept in '" + part_path_ + "' — run the same command again to resume";
    }

    const download_request & req_;
    std::string              what_;
    std::string              part_path_;
    curl_easy_ptr            handle_;
    curl_slist_ptr           headers_;
    char                     errbuf_[CURL_ERROR_SIZE] = {};
    unique_fd                part_;
    sha256_stream            hash_;
    response_info            resp_;
    uint64_t                 done_           = 0;  // bytes in the .part
    uint64_t                 total_          = 0;
    uint64_t                 received_       = 0;  // bytes received in this run
    uint64_t                 kept_           = 0;  // bytes kept from an earlier run
    bool                     body_started_   = false;
    bool                     discard_body_   = false;  // an error page, not the file
    bool                     range_mismatch_ = false;
    std::exception_ptr       callback_error_;
    clock_type::time_point   start_;
    clock_type::time_point   last_report_ {};

    CURLcode                       perform(bool head_only, uint64_t from);
    bool                           cancelled() const { return req_.cancel && req_.cancel->load(); }
    void                           report(bool force);
    void                           part_open();
    uint64_t                       part_size() const;
    void                           part_restart();
    void                           part_append(const char * data, size_t n);
    uint64_t                       total_known() const;
    void                           body_begin();
    std::optional<download_result> existing_check(const std::string & expected);
    download_result                finish(const std::string & expected, int32_t attempts);
    [[noreturn]] void              throw_unreachable(CURLcode rc) const;

    static size_t on_header(char * data, size_t size, size_t n, void * self);
    static size_t on_body(char * data, size_t size, size_t n, void * self);
    static int    on_xfer(void * self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
};

size_t download_job::on_header(char * data, size_t size, size_t n, void * self) {
    auto * job = (download_job *)self;
    response_header_parse(job->resp_, std::string(data, size * n));
    return size * n;
}

size_t download_job::on_body(char * data, size_t size, size_t n, void * self) {
    auto * job = (download_job *)self;
    try {
        if (!job->body_started_) {
            job->body_begin();
        }
        if (job->range_mismatch_) {
            return 0;
        }
        if (!job->discard_body_) {
            job->part_append(data, size * n);
        }
        return size * n;
    } catch (...) {
        job->callback_error_ = std::current_exception();
        return 0;
    }
}

int download_job::on_xfer(void * self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto * job = (download_job *)self;
    if (job->cancelled()) {
        return 1;
    }
    try {
        job->report(false);
    } catch (...) {
        job->callback_error_ = std::current_exception();
        return 1;
    }
    return 0;
}

void download_job::body_begin() {
    body_started_ = true;
    if (resp_.status == 206) {
        range_mismatch_ = !resp_.has_range || resp_.range_start != done_;
    } else if (resp_.status == 200) {
        if (done_ > 0) {
            part_restart();  // the server ignored Range and sends the whole file
        }
    } else {
        discard_body_ = true;
    }
    total_ = total_known();
}

uint64_t download_job::total_known() const {
    if (resp_.status == 206 && resp_.range_total > 0) {
        return resp_.range_total;
    }
    if (resp_.status == 200 && resp_.has_length) {
        return resp_.content_length;
    }
    return resp_.linked_size > 0 ? resp_.linked_size : total_;
}

void download_job::report(bool force) {
    if (!req_.on_progress) {
        return;
    }
    const auto now = clock_type::now();
    if (!force && now - last_report_ < std::chrono::milliseconds(100)) {
        return;
    }
    last_report_      = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    req_.on_progress({ done_, total_, secs > 0 ? received_ / secs : 0.0 });
}

void download_job::part_open() {
    unique_fd fd(open(part_path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        throw download_error("cannot write '" + part_path_ + "': " + strerror(errno) +
                             " — check that the models dir exists and is writable, or pick another with --models-dir");
    }
    if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        throw download_error("'" + part_path_ + "' is being written by another muse pull: wait for it to finish");
    }
    part_.reset(fd.release());
}

uint64_t download_job::part_size() const {
    struct stat st {};
    if (fstat(part_.get(), &st) != 0) {
        throw download_error("cannot read the size of '" + part_path_ + "': " + strerror(errno));
    }
    return (uint64_t)st.st_size;
}

void download_job::part_restart() {
    if (ftruncate(part_.get(), 0) != 0) {
        throw download_error("cannot truncate '" + part_path_ + "': " + strerror(errno) + " — delete it by hand");
    }
    hash_.reset();
    done_ = 0;
    kept_ = 0;
}

void download_job::part_append(const char * data, size_t n) {
    hash_.update(data, n);
    done_ += n;
    received_ += n;
    while (n > 0) {
        const ssize_t w = write(part_.get(), data, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            throw download_error("writing '" + part_path_ + "' failed: " + strerror(errno) +
                                 " — free some disk space or pick another --models-dir, then run again to resume");
        }
        data += w;
        n -= (size_t)w;
    }
}

CURLcode download_job::perform(bool head_only, uint64_t from) {
    CURL * h = handle_.get();
    curl_easy_reset(h);  // keeps the connection cache; clears the last request's options
    resp_           = response_info {};
    body_started_   = false;
    discard_body_   = false;
    range_mismatch_ = false;
    errbuf_[0]      = 0;
    curl_easy_setopt(h, CURLOPT_URL, req_.url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "muse-pull/1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
    // A stalled connection (under 1 KiB/s for a minute) counts as dropped and is resumed.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &download_job::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &download_job::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &download_job::on_xfer);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
    if (headers_) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
    }
    const std::string range = std::to_string(from) + "-";
    if (head_only) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (from > 0) {
        curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
    }
    return curl_easy_perform(h);
}

void download_job::throw_unreachable(CURLcode rc) const {
    const std::string host = curl_url_host(req_.url);
    const std::string why  = errbuf_[0] ? errbuf_ : curl_easy_strerror(rc);
    if (rc == CURLE_COULDNT_RESOLVE_HOST) {
        throw download_error("cannot resolve host '" + host + "' for " + what_ +
                             ": the machine looks offline, or the host name is wrong — check the network and the URL");
    }
    if (rc == CURLE_COULDNT_RESOLVE_PROXY) {
        throw download_error("cannot resolve the proxy for " + what_ + " (" + why +
                             "): check the network and the http_proxy/https_proxy variables");
    }
    throw download_error("cannot connect to " + host + " for " + what_ + " (" + why +
                         "): the machine looks offline or the server is down — check the network and the URL");
}

// dest is there already: keep it when it matches the expected or published sha256 (or, when the source
// publishes none, the size it announces).
std::optional<download_result> download_job::existing_check(const std::string & expected_given) {
    download_result r;
    r.path               = req_.dest;
    r.size               = std::filesystem::file_size(req_.dest);
    r.already_there      = true;
    std::string expected = expected_given;
    if (expected.empty()) {
        const CURLcode rc = perform(true, 0);
        if (rc != CURLE_OK || resp_.status >= 300) {  // offline, or gone: keep the file, unverified
            r.unverified_why = "the source could not be checked (" +
                               (rc != CURLE_OK ? std::string(errbuf_[0] ? errbuf_ : curl_easy_strerror(rc))
                                               : "HTTP " + std::to_string(resp_.status)) +
                               ")";
            return r;
        }
        expected = published_sha256(resp_);
        if (expected.empty()) {
            const uint64_t size = resp_.has_length ? resp_.content_length : resp_.linked_size;
            r.unverified_why    = "the source publishes no sha256; the size matches";
            return size == r.size ? std::optional<download_result>(r) : std::nullopt;
        }
    }
    r.sha256 = file_sha256(req_.dest);
    if (r.sha256 != expected) {
        return std::nullopt;  // a different file under this name: download, replace only once verified
    }
    r.verified = true;
    return r;
}

download_result download_job::finish(const std::string & expected_given, int32_t attempts) {
    report(true);
    download_result r;
    r.path                     = req_.dest;
    r.size                     = done_;
    r.sha256                   = hash_.hex_digest();
    r.resumed_from             = kept_;
    r.attempts                 = attempts;
    const std::string expected = expected_given.empty() ? published_sha256(resp_) : expected_given;
    if (!expected.empty() && expected != r.sha256) {
        unlink(part_path_.c_str());
        throw download_error(
            "sha256 mismatch for " + what_ + ": expected " + expected +
            (expected_given.empty() ? " (published by the source)" : " (from --sha256)") + ", got " + r.sha256 +
            "; the download was deleted — " +
            (expected_given.empty() ? "run again to download it afresh" : "check the --sha256 value, then run again"));
    }
    r.verified = !expected.empty();
    if (!r.verified) {
        r.unverified_why = "the source publishes no sha256";
    }
    if (fsync(part_.get()) != 0 || rename(part_path_.c_str(), req_.dest.c_str()) != 0) {
        throw download_error("cannot move '" + part_path_ + "' to '" + req_.dest + "': " + strerror(errno) +
                             " — check the models dir's permissions and free space");
    }
    std::string dir = std::filesystem::path(req_.dest).parent_path().string();
    unique_fd   dir_fd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd) {
        fsync(dir_fd.get());  // the rename itself survives a power cut
    }
    return r;
}

download_result download_job::run() {
    std::string expected = lower(req_.expected_sha256);
    if (!expected.empty() && !sha256_hex_valid(expected)) {
        throw input_error("--sha256 '" + req_.expected_sha256 + "' is not a sha256: give 64 hex digits");
    }
    if (std::filesystem::exists(req_.dest)) {
        if (auto r = existing_check(expected)) {
            return *r;
        }
    }
    part_open();
    kept_ = part_size();
    if (kept_ > 0 && !hash_.update_from_fd(part_.get(), kept_)) {
        throw download_error("cannot read '" + part_path_ + "' to resume it: delete it and run again");
    }
    done_ = kept_;

    int32_t     backoff_ms = std::max(req_.backoff_ms, 0);
    bool        reached    = false;  // some request got an answer: later connection failures are drops
    std::string problem;
    for (int32_t attempt = 1;; attempt++) {
        const uint64_t from = done_;
        const CURLcode rc   = perform(false, from);
        reached             = reached || resp_.reached;
        if (callback_error_) {
            std::rethrow_exception(callback_error_);
        }
        if (rc == CURLE_ABORTED_BY_CALLBACK && cancelled()) {
            throw download_cancelled(done_ == 0 ? "cancelled before any of " + what_ + " arrived"
                                                : "cancelled: " + size_text(done_) + " of " + what_ + " kept in '" +
                                                      part_path_ + "'; run the same command again to resume");
        }
        bool wait = true;
        if (range_mismatch_) {
            part_restart();
            problem = "the server sent a different range than asked for; starting over";
            wait    = false;
        } else if (rc == CURLE_OK && (resp_.status == 200 || resp_.status == 206)) {
            if (!body_started_ && resp_.status == 200) {
                part_restart();  // an empty file
            }
            total_ = total_known();
            if (total_ == 0 || done_ == total_) {
                return finish(expected, attempt);
            }
            problem = "the transfer ended at " + std::to_string(done_) + " of " + std::to_string(total_) + " bytes";
        } else if (rc == CURLE_OK && resp_.status == 416) {
            if (from > 0 && resp_.has_range && resp_.range_total == from) {
                total_ = from;  // the .part was complete already
                if (expected.empty() && published_sha256(resp_).empty()) {
                    perform(true, 0);  // a 416 seldom carries the ETag: ask for the headers of the file
                }
                return finish(expected, attempt);
            }
            part_restart();
            problem = "the partial file does not fit the file on the server; starting over";
            wait    = false;
        } else if (rc == CURLE_OK && (resp_.status == 401 || resp_.status == 403)) {
            throw download_error("HTTP " + std::to_string(resp_.status) + " for " + what_ + ": " + req_.auth_hint);
        } else if (rc == CURLE_OK && (resp_.status == 404 || resp_.status == 410)) {
            throw download_error("not found (HTTP " + std::to_string(resp_.status) + "): " + what_ +
                                 (what_ == req_.url ? "" : " at " + req_.url) + " — " +
                                 (req_.missing_hint.empty() ? "check the URL" : req_.missing_hint));
        } else if (rc == CURLE_OK && (resp_.status == 429 || resp_.status >= 500)) {
            problem = "the server answered HTTP " + std::to_string(resp_.status);
        } else if (rc == CURLE_OK) {
            throw download_error("unexpected HTTP " + std::to_string(resp_.status) + " for " + what_ + " at " +
                                 req_.url + ": check the URL");
        } else if (curl_code_unreachable(rc) && !reached) {
            throw_unreachable(rc);
        } else if (curl_code_dropped(rc) || curl_code_unreachable(rc)) {
            problem = errbuf_[0] ? errbuf_ : curl_easy_strerror(rc);
        } else {
            throw download_error("downloading " + what_ + " failed: " +
                                 (errbuf_[0] ? errbuf_ : curl_easy_strerror(rc)) + " — check the URL and the network");
        }
        if (attempt >= req_.tries) {
            throw download_error("downloading " + what_ + " failed after " + std::to_string(attempt) +
                                 " attempts (last: " + problem + ")" +
                                 (done_ == 0 ? "; nothing arrived — check the URL and the network" : kept_note()));
        }
        const auto until = clock_type::now() + std::chrono::milliseconds(wait ? backoff_ms : 0);
        while (clock_type::now() < until && !cancelled()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (wait) {
            backoff_ms = std::min(backoff_ms * 2, 30000);
        }
    }
}

}  // namespace

download_result download_file(const download_request & req) {
    download_job job(req);
    try {
        return job.run();
    } catch (...) {
        job.part_discard_if_empty();
        throw;
    }
}

}  // namespace muse::pull
