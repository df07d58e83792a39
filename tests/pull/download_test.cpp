// `muse pull`'s downloads against a real HTTP server on loopback: resume after a dropped connection
// and after an earlier run, sha256 checks, HTTP errors, an unreachable host, cancel.
#include "pull/download.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "pull/loopback-server.h"
#include "pull/source.h"

namespace fs = std::filesystem;
using namespace muse::pull;
using muse::test::loopback_server;
using muse::test::pull_body_sha256;
using muse::test::serve_options;

namespace {

std::string file_read_all(const fs::path & p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void file_write_all(const fs::path & p, const std::string & data) {
    std::ofstream out(p, std::ios::binary);
    out.write(data.data(), (std::streamsize)data.size());
}

// The message of the download_error that fn throws; a test failure when it throws none.
template <class F>
std::string download_error_of(F && fn) {
    try {
        fn();
    } catch (const download_error & e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a download_error";
    return "";
}

// A port that nothing listens on: bound by the kernel's choice, then closed.
int closed_port() {
    const int   fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family      = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (sockaddr *)&a, sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, (sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

class pull_download : public ::testing::Test {
  protected:
    loopback_server server;
    fs::path        dir;

    static void SetUpTestSuite() {
        // libcurl honours these; loopback must not go through a proxy in the tests.
        for (const char * v : { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" }) {
            unsetenv(v);
        }
    }

    void SetUp() override {
        const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir               = fs::temp_directory_path() / ("muse-pull-" + std::to_string(getpid()) + "-" + info->name());
        fs::remove_all(dir);
        fs::create_directories(dir);
        server.file_add("/file.gguf", { .sha = pull_body_sha256 });
        server.file_add("/nosha.gguf", {});
    }

    void TearDown() override { fs::remove_all(dir); }

    download_request request(const std::string & path, const std::string & name = "model.gguf") {
        download_request r;
        r.url        = server.base() + path;
        r.dest       = (dir / name).string();
        r.backoff_ms = 10;
        return r;
    }
};

TEST_F(pull_download, full_download_verifies_the_published_sha256) {
    const auto r = download_file(request("/file.gguf"));
    EXPECT_TRUE(r.verified);
    EXPECT_FALSE(r.already_there);
    EXPECT_EQ(r.sha256, pull_body_sha256);
    EXPECT_EQ(r.size, server.body().size());
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());
    EXPECT_FALSE(fs::exists(dir / "model.gguf.part"));
}

TEST_F(pull_download, dropped_connection_resumes_with_range) {
    server.file_add("/drop.gguf", { .sha = pull_body_sha256, .drop_after = 1500 * 1024, .drops = 1 });
    const auto r = download_file(request("/drop.gguf"));
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.sha256, pull_body_sha256);
    EXPECT_EQ(r.attempts, 2);
    const auto ranges = server.ranges_for("/drop.gguf");
    ASSERT_EQ(ranges.size(), 2u);
    EXPECT_EQ(ranges[0], "");
    ASSERT_EQ(ranges[1].rfind("bytes=", 0), 0u) << ranges[1];
    EXPECT_GT(std::stoull(ranges[1].substr(6)), 0u) << "the second request resumes, not restarts";
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());
}

TEST_F(pull_download, dropped_every_time_gives_up_and_keeps_the_part) {
    server.file_add("/flaky.gguf", { .sha = pull_body_sha256, .drop_after = 256 * 1024, .drops = -1 });
    auto req              = request("/flaky.gguf");
    req.tries             = 3;
    const std::string msg = download_error_of([&] { download_file(req); });
    EXPECT_NE(msg.find("after 3 attempts"), std::string::npos) << msg;
    EXPECT_NE(msg.find("resume"), std::string::npos) << msg;
    EXPECT_EQ(fs::file_size(dir / "model.gguf.part"), 3u * 256 * 1024);  // each attempt added its 256 KiB
    EXPECT_FALSE(fs::exists(dir / "model.gguf"));
}

TEST_F(pull_download, part_from_an_earlier_run_is_resumed) {
    const size_t k = 1024 * 1024 + 123;
    file_write_all(dir / "model.gguf.part", server.body().substr(0, k));
    const auto r = download_file(request("/file.gguf"));
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.resumed_from, k);
    EXPECT_EQ(server.ranges_for("/file.gguf"), std::vector<std::string> { "bytes=" + std::to_string(k) + "-" });
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());
}

TEST_F(pull_download, complete_part_finishes_on_416) {
    file_write_all(dir / "model.gguf.part", server.body());
    const auto r = download_file(request("/file.gguf"));
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.resumed_from, server.body().size());
    EXPECT_EQ(server.ranges_for("/file.gguf").size(), 1u);
    EXPECT_TRUE(fs::exists(dir / "model.gguf"));
}

TEST_F(pull_download, server_ignoring_range_restarts_from_zero) {
    server.file_add("/norange.gguf", { .sha = pull_body_sha256, .ignore_range = true });
    file_write_all(dir / "model.gguf.part", std::string(70000, 'x'));  // not the file's bytes: must be dropped
    const auto r = download_file(request("/norange.gguf"));
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.resumed_from, 0u);
    EXPECT_EQ(server.ranges_for("/norange.gguf"), std::vector<std::string> { "bytes=70000-" });
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());
}

TEST_F(pull_download, sha256_mismatch_leaves_no_file_and_no_part) {
    const std::string wrong(64, 'a');
    server.file_add("/wrongsha.gguf", { .sha = wrong });
    const std::string msg = download_error_of([&] { download_file(request("/wrongsha.gguf")); });
    EXPECT_NE(msg.find(wrong), std::string::npos) << msg;
    EXPECT_NE(msg.find(pull_body_sha256), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(dir / "model.gguf"));
    EXPECT_FALSE(fs::exists(dir / "model.gguf.part"));
}

TEST_F(pull_download, given_sha256_is_checked_and_must_be_hex) {
    auto req            = request("/nosha.gguf");
    req.expected_sha256 = std::string(64, 'b');
    EXPECT_THROW(download_file(req), download_error);
    EXPECT_FALSE(fs::exists(dir / "model.gguf.part"));

    req.expected_sha256 = "abc";
    EXPECT_THROW(download_file(req), muse::input_error);

    req.expected_sha256 = pull_body_sha256;
    for (auto & c : req.expected_sha256) {
        c = (char)std::toupper((unsigned char)c);
    }
    EXPECT_TRUE(download_file(req).verified);
}

TEST_F(pull_download, no_published_sha256_is_unverified) {
    const auto r = download_file(request("/nosha.gguf"));
    EXPECT_FALSE(r.verified);
    EXPECT_EQ(r.sha256, pull_body_sha256);
}

TEST_F(pull_download, existing_file_is_already_there) {
    download_file(request("/file.gguf"));
    const auto r = download_file(request("/file.gguf"));
    EXPECT_TRUE(r.already_there);
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(server.ranges_for("/file.gguf").size(), 1u) << "no second GET";

    // A different file under the name is replaced, once the new one is verified.
    file_write_all(dir / "model.gguf", "not the model");
    const auto again = download_file(request("/file.gguf"));
    EXPECT_FALSE(again.already_there);
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());
}

TEST_F(pull_download, not_found_names_the_file) {
    const std::string msg = download_error_of([&] { download_file(request("/missing-model.gguf")); });
    EXPECT_NE(msg.find("missing-model.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("404"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(dir / "model.gguf"));
    EXPECT_FALSE(fs::exists(dir / "model.gguf.part")) << "a failed pull leaves no empty .part";
    EXPECT_EQ(msg.find("kept in"), std::string::npos) << msg;
}

TEST_F(pull_download, connection_refused_says_offline_without_retrying) {
    download_request req;
    const int        port   = closed_port();
    req.url                 = "http://127.0.0.1:" + std::to_string(port) + "/model.gguf";
    req.dest                = (dir / "model.gguf").string();
    req.backoff_ms          = 5000;  // a retry would show as a slow test
    const auto        start = std::chrono::steady_clock::now();
    const std::string msg   = download_error_of([&] { download_file(req); });
    EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << msg;
    EXPECT_NE(msg.find("offline"), std::string::npos) << msg;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
    EXPECT_FALSE(fs::exists(dir / "model.gguf.part")) << "a failed pull leaves no empty .part";
}

TEST_F(pull_download, cancel_keeps_the_part_for_the_next_run) {
    std::atomic<bool> cancel { false };
    server.file_add("/slow.gguf", { .sha = pull_body_sha256, .chunk_delay_ms = 5, .on_sent = [&](size_t sent) {
                                       if (sent >= 512 * 1024) {
                                           cancel = true;
                                       }
                                   } });
    auto req   = request("/slow.gguf");
    req.cancel = &cancel;
    EXPECT_THROW(download_file(req), download_cancelled);
    const auto kept = fs::file_size(dir / "model.gguf.part");
    EXPECT_GT(kept, 0u);
    EXPECT_LT(kept, server.body().size());
    EXPECT_FALSE(fs::exists(dir / "model.gguf"));

    std::atomic<bool> no_cancel { false };
    req.cancel   = &no_cancel;
    const auto r = download_file(req);
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.resumed_from, kept);
    EXPECT_EQ(server.ranges_for("/slow.gguf").back(), "bytes=" + std::to_string(kept) + "-");
}

TEST_F(pull_download, progress_reaches_the_total) {
    download_progress last;
    int               calls = 0;
    auto              req   = request("/file.gguf");
    req.on_progress         = [&](const download_progress & p) {
        last = p;
        calls++;
    };
    download_file(req);
    EXPECT_GE(calls, 1);
    EXPECT_EQ(last.done, server.body().size());
    EXPECT_EQ(last.total, server.body().size());
}

// Hugging Face: /OWNER/REPO/resolve/REV/FILE redirects to a CDN; the sha256 is on the redirect.
class pull_hf : public pull_download {
  protected:
    std::mutex               auth_mutex;
    std::vector<std::string> auth_seen;  // the gated repo's Authorization headers

    void SetUp() override {
        pull_download::SetUp();
        server.file_add("/cdn/model.gguf", { .etag = "\"cdn-etag-not-a-sha\"" });
        const auto redirect = [this](const httplib::Request & req, httplib::Response & res) {
            server.request_record(req);
            res.status = 302;
            res.set_header("Location", "/cdn/model.gguf");
            res.set_header("X-Linked-ETag", std::string("\"") + pull_body_sha256 + "\"");
            res.set_header("X-Linked-Size", std::to_string(server.body().size()));
        };
        server.http().Get("/acme/tiny/resolve/(main|v1\\.0)/model\\.gguf", redirect);
        server.http().Get("/acme/gated/resolve/main/model\\.gguf",
                          [this, redirect](const httplib::Request & req, httplib::Response & res) {
                              {
                                  std::lock_guard<std::mutex> lock(auth_mutex);
                                  auth_seen.push_back(req.get_header_value("Authorization"));
                              }
                              if (req.get_header_value("Authorization") != "Bearer secret") {
                                  res.status = 401;
                                  return;
                              }
                              redirect(req, res);
                          });
    }

    download_result pull(const std::string & text, const std::string & token = "") {
        source_env env;
        env.hf_endpoint  = server.base() + "/";
        env.hf_token     = token;
        const auto src   = source_parse(text, env);
        auto       req   = request("");
        req.url          = src.url;
        req.what         = src.what;
        req.dest         = (dir / src.file_name).string();
        req.auth_hint    = src.auth_hint;
        req.missing_hint = src.missing_hint;
        req.bearer_token = src.bearer_token;
        return download_file(req);
    }
};

TEST_F(pull_hf, source_resolves_to_the_endpoint_and_the_redirect_sha_verifies) {
    const auto r = pull("hf:acme/tiny/model.gguf");
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.path, (dir / "model.gguf").string());
    EXPECT_EQ(file_read_all(dir / "model.gguf"), server.body());

    fs::remove(dir / "model.gguf");
    EXPECT_TRUE(pull("hf:acme/tiny/model.gguf@v1.0").verified);
}

TEST_F(pull_hf, endpoint_from_the_environment) {
    setenv("MUSE_HF_ENDPOINT", server.base().c_str(), 1);
    const auto env = source_env_read();
    unsetenv("MUSE_HF_ENDPOINT");
    EXPECT_EQ(env.hf_endpoint, server.base());
    EXPECT_EQ(source_parse("hf:acme/tiny/model.gguf", env).url, server.base() + "/acme/tiny/resolve/main/model.gguf");
}

TEST_F(pull_hf, gated_repo_asks_for_hf_token_and_sends_it) {
    const std::string msg = download_error_of([&] { pull("hf:acme/gated/model.gguf"); });
    EXPECT_NE(msg.find("HF_TOKEN"), std::string::npos) << msg;
    EXPECT_NE(msg.find("acme/gated"), std::string::npos) << msg;
    EXPECT_TRUE(pull("hf:acme/gated/model.gguf", "secret").verified);
    std::lock_guard<std::mutex> lock(auth_mutex);
    EXPECT_EQ(auth_seen.front(), "");
    EXPECT_EQ(auth_seen.back(), "Bearer secret");
}

TEST_F(pull_hf, missing_repo_is_named) {
    const std::string msg = download_error_of([&] { pull("hf:acme/nothere/model.gguf"); });
    EXPECT_NE(msg.find("acme/nothere"), std::string::npos) << msg;
}

}  // namespace
