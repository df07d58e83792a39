// How `muse pull` reads its SOURCE argument.
#include "pull/source.h"

#include <gtest/gtest.h>

#include "engine/error.h"

using namespace muse::pull;

namespace {

source_env env_make(const std::string & token = "") {
    source_env env;
    env.hf_endpoint = "https://hf.example";
    env.hf_token    = token;
    return env;
}

TEST(pull_source, hf_resolves_to_the_main_revision) {
    const auto s = source_parse("hf:acme/tiny-llm/tiny-Q4_K_M.gguf", env_make());
    EXPECT_EQ(s.url, "https://hf.example/acme/tiny-llm/resolve/main/tiny-Q4_K_M.gguf");
    EXPECT_EQ(s.file_name, "tiny-Q4_K_M.gguf");
    EXPECT_NE(s.what.find("acme/tiny-llm"), std::string::npos);
    EXPECT_TRUE(s.bearer_token.empty());
}

TEST(pull_source, hf_revision_and_subfolder_are_encoded) {
    const auto s = source_parse("hf:acme/big/Q4 K/part-1.gguf@refs/pr/1", env_make());
    EXPECT_EQ(s.url, "https://hf.example/acme/big/resolve/refs%2Fpr%2F1/Q4%20K/part-1.gguf");
    EXPECT_EQ(s.file_name, "part-1.gguf");
}

TEST(pull_source, hf_token_goes_only_to_the_hf_endpoint) {
    EXPECT_EQ(source_parse("hf:a/b/c.gguf", env_make("tok")).bearer_token, "tok");
    EXPECT_NE(source_parse("hf:a/b/c.gguf", env_make()).auth_hint.find("HF_TOKEN"), std::string::npos);
    EXPECT_TRUE(source_parse("https://other.example/c.gguf", env_make("tok")).bearer_token.empty());
}

TEST(pull_source, urls_are_taken_as_they_are) {
    const auto s = source_parse("https://files.example/models/m.gguf?download=true", env_make());
    EXPECT_EQ(s.url, "https://files.example/models/m.gguf?download=true");
    EXPECT_EQ(s.file_name, "m.gguf");
    EXPECT_EQ(source_parse("HTTP://files.example/x.gguf", env_make()).file_name, "x.gguf");
    EXPECT_EQ(source_parse("http://files.example/", env_make()).file_name, "");
}

TEST(pull_source, bad_sources_are_input_errors) {
    for (const char * bad : { "hf:onlyowner", "hf:owner/repo", "hf:owner//file.gguf", "hf:a/b/c.gguf@",
                              "hf:a/../c.gguf", "ftp://x", "model.gguf", "", "http://", "https:///path" }) {
        EXPECT_THROW(source_parse(bad, env_make()), muse::input_error) << bad;
    }
    try {
        source_parse("ftp://x", env_make());
    } catch (const muse::input_error & e) {
        EXPECT_NE(std::string(e.what()).find("ftp://x"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("hf:OWNER/REPO"), std::string::npos);
    }
}

}  // namespace
