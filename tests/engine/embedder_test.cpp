// The embedder on the real tiny embedding model (qwen3-embed-tiny.gguf: qwen3, last-token
// pooling, Qwen3's tokenizer ending every input with <|endoftext|>), through llama.cpp.
#include "engine/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "engine/backend.h"
#include "engine/error.h"

namespace {

const std::string model_path = std::string(MUSE_TEST_MODELS_DIR) + "/qwen3-embed-tiny.gguf";

double norm_of(const std::vector<float> & v) {
    double s = 0.0;
    for (float x : v)
        s += (double)x * x;
    return std::sqrt(s);
}

float max_abs_diff(const std::vector<float> & a, const std::vector<float> & b) {
    EXPECT_EQ(a.size(), b.size());
    float d = 0.0f;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
        d = std::max(d, std::fabs(a[i] - b[i]));
    return d;
}

class EmbedderTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        be_ = new muse::backend(false);
        muse::embedder_params p;
        p.path = model_path;
        emb_   = new muse::embedder(*be_, p);
    }
    static void TearDownTestSuite() {
        delete emb_;
        delete be_;
        emb_ = nullptr;
        be_  = nullptr;
    }
    static muse::backend *  be_;
    static muse::embedder * emb_;
};

muse::backend *  EmbedderTest::be_  = nullptr;
muse::embedder * EmbedderTest::emb_ = nullptr;

TEST_F(EmbedderTest, InfoComesFromTheFile) {
    const auto & info = emb_->info();
    EXPECT_EQ(info.arch, "qwen3");
    EXPECT_EQ(info.name, "qwen3-embed-tiny");
    EXPECT_EQ(info.pooling, "last");
    EXPECT_FALSE(info.pooling_fallback);
    EXPECT_EQ(emb_->dims(), 64);
    EXPECT_EQ(info.n_ctx, 512);  // the model's training context
}

TEST_F(EmbedderTest, TokenizerEndsWithEndOfText) {
    const auto toks = emb_->tokenize("hello world");
    ASSERT_GE(toks.size(), 2u);
    EXPECT_EQ(toks.back(), 151643);  // <|endoftext|>, appended as Qwen3-Embedding's tokenizer does
}

TEST_F(EmbedderTest, SameTextTwiceGivesTheSameVector) {
    int32_t    n1 = 0, n2 = 0;
    const auto a = emb_->embed({ "the quick brown fox" }, &n1);
    const auto b = emb_->embed({ "the quick brown fox" }, &n2);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0], b[0]);
    EXPECT_EQ(n1, n2);
    EXPECT_EQ(n1, (int32_t)emb_->tokenize("the quick brown fox").size());
}

TEST_F(EmbedderTest, VectorsHaveUnitNormAndTheModelsLength) {
    const auto out = emb_->embed({ "a", "a longer sentence about embeddings", "日本語のテキスト" });
    ASSERT_EQ(out.size(), 3u);
    for (const auto & v : out) {
        ASSERT_EQ((int32_t)v.size(), emb_->dims());
        EXPECT_NEAR(norm_of(v), 1.0, 1e-5);
        for (float x : v)
            ASSERT_TRUE(std::isfinite(x));
    }
}

TEST_F(EmbedderTest, DifferentTextsDiffer) {
    const auto out = emb_->embed({ "cats sleep all day", "the stock market fell", "cats sleep all day!" });
    EXPECT_GT(max_abs_diff(out[0], out[1]), 1e-3f);
    EXPECT_GT(max_abs_diff(out[0], out[2]), 1e-4f);
    EXPECT_GT(max_abs_diff(out[1], out[2]), 1e-3f);
}

TEST_F(EmbedderTest, BatchEqualsOneAtATime) {
    const std::vector<std::string> texts   = { "first input", "a second, somewhat longer input text", "3",
                                               "fourth: with punctuation & symbols", "" };
    int32_t                        n_batch = 0;
    const auto                     batch   = emb_->embed(texts, &n_batch);
    ASSERT_EQ(batch.size(), texts.size());
    int32_t n_single = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        int32_t    n   = 0;
        const auto one = emb_->embed({ texts[i] }, &n);
        n_single += n;
        // A batch's rows take other kernels than a lone row: 1.9e-4 apart on an Intel Xeon with
        // AVX512-FP16 (unit vectors; a wrong pooling or a mixed-up row is off by 1e-1 and more).
        EXPECT_LT(max_abs_diff(batch[i], one[0]), 5e-4f) << "input " << i;
    }
    EXPECT_EQ(n_batch, n_single);
}

TEST_F(EmbedderTest, EmptyStringIsEndOfTextAlone) {
    const auto toks = emb_->tokenize("");
    ASSERT_EQ(toks.size(), 1u);  // just <|endoftext|>
    const auto out = emb_->embed({ "" });
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NEAR(norm_of(out[0]), 1.0, 1e-5);
    EXPECT_EQ(emb_->embed_tokens({ toks })[0], out[0]);
}

TEST_F(EmbedderTest, NoInputsGiveNoVectors) {
    int32_t n = -1;
    EXPECT_TRUE(emb_->embed({}, &n).empty());
    EXPECT_EQ(n, 0);
}

TEST_F(EmbedderTest, TokenInputsMatchTheirText) {
    const std::string text = "token ids in, the same vector out";
    const auto        a    = emb_->embed({ text });
    const auto        b    = emb_->embed_tokens({ emb_->tokenize(text) });
    EXPECT_EQ(a[0], b[0]);
}

TEST_F(EmbedderTest, ManyInputsSpanSeveralBatches) {
    // 150 inputs: over the 64 sequences one decode holds, and ~1500 tokens, over the 512 of one batch.
    std::vector<std::string> texts;
    for (int i = 0; i < 150; ++i) {
        texts.push_back("input number " + std::to_string(i) + " talks about topic " + std::to_string(i * 7 % 13));
    }
    int32_t    n   = 0;
    const auto out = emb_->embed(texts, &n);
    ASSERT_EQ(out.size(), texts.size());
    EXPECT_GT(n, 512);
    for (size_t i : { (size_t)0, (size_t)63, (size_t)64, (size_t)100, (size_t)149 }) {
        const auto one = emb_->embed({ texts[i] });
        EXPECT_LT(max_abs_diff(out[i], one[0]), 1e-4f) << "input " << i;
        EXPECT_NEAR(norm_of(out[i]), 1.0, 1e-5);
    }
    EXPECT_GT(max_abs_diff(out[0], out[149]), 1e-4f);
}

TEST_F(EmbedderTest, OverLongInputNamesItsIndexTokensAndTheLimit) {
    std::string long_text;
    for (int i = 0; i < 700; ++i)
        long_text += " word" + std::to_string(i);
    const int32_t n_long = (int32_t)emb_->tokenize(long_text).size();
    ASSERT_GT(n_long, 512);
    try {
        emb_->embed({ "short", long_text });
        FAIL() << "an input over the context was accepted";
    } catch (const muse::limit_error & e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("input 1"), std::string::npos) << msg;
        EXPECT_NE(msg.find(std::to_string(n_long) + " tokens"), std::string::npos) << msg;
        EXPECT_NE(msg.find("512"), std::string::npos) << msg;
    }
    // Exactly at the limit is fine.
    std::vector<int32_t> at_limit(512, 100);
    EXPECT_EQ(emb_->embed_tokens({ at_limit }).size(), 1u);
    at_limit.push_back(100);
    EXPECT_THROW(emb_->embed_tokens({ at_limit }), muse::limit_error);
}

TEST_F(EmbedderTest, BadTokenInputsAreClearErrors) {
    try {
        emb_->embed_tokens({ { 1, 2 }, { 5, -1 } });
        FAIL();
    } catch (const muse::input_error & e) {
        EXPECT_NE(std::string(e.what()).find("input 1, token 1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(emb_->embed_tokens({ { 1 }, { 999999 } }), muse::input_error);
    EXPECT_THROW(emb_->embed_tokens({ {} }), muse::input_error);
}

TEST_F(EmbedderTest, ConcurrentCallersGetTheSameVectors) {
    const auto               expected = emb_->embed({ "shared", "between threads" });
    std::vector<std::thread> threads;
    std::vector<int>         ok(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < 5; ++k) {
                const auto got = emb_->embed({ "shared", "between threads" });
                ok[(size_t)t] += max_abs_diff(got[0], expected[0]) < 1e-6f && max_abs_diff(got[1], expected[1]) < 1e-6f;
            }
        });
    }
    for (auto & th : threads)
        th.join();
    for (int v : ok)
        EXPECT_EQ(v, 5);
}

TEST(EmbedderLoad, MissingFileIsAnInputError) {
    muse::backend         be(false);
    muse::embedder_params p;
    p.path = "/nonexistent/embed.gguf";
    EXPECT_THROW(muse::embedder(be, p), muse::input_error);
}

TEST(EmbedderLoad, AGenerativeModelFallsBackToMeanPooling) {
    muse::backend         be(false);
    muse::embedder_params p;
    p.path        = std::string(MUSE_TEST_MODELS_DIR) + "/qwen3-tiny.gguf";
    p.n_ctx       = 256;
    float last    = -1.0f;
    p.on_progress = [&](float f) {
        last = f;
        return true;
    };
    muse::embedder e(be, p);
    EXPECT_EQ(e.info().pooling, "mean");
    EXPECT_TRUE(e.info().pooling_fallback);
    EXPECT_EQ(e.info().n_ctx, 256);
    EXPECT_FLOAT_EQ(last, 1.0f);
    const auto out = e.embed({ "mean pooled", "another" });
    EXPECT_NEAR(norm_of(out[0]), 1.0, 1e-5);
    EXPECT_GT(max_abs_diff(out[0], out[1]), 1e-4f);
}

TEST(EmbedderLoad, NegativeContextIsRefused) {
    muse::backend         be(false);
    muse::embedder_params p;
    p.path  = model_path;
    p.n_ctx = -5;
    EXPECT_THROW(muse::embedder(be, p), muse::input_error);
}

}  // namespace
