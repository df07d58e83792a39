// The prefix cache (engine/prefix-cache.h) on the tiny models: a conversation's turns decode
// only what they add and generate what their whole prompt generates alone (up to near ties,
// test-util.h); entries are their owner's alone; entries pushed out of the session come back
// from RAM and from disk, a damaged file is refused and the turn decoded afresh; files survive
// a restart and go with their owner; a full KV pool takes parked cells back.
#include "engine/error.h"
#include "engine/prefix-cache.h"
#include "llama.h"
#include "test-util.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace muse;
using namespace muse::test;
namespace fs = std::filesystem;

namespace {

class prefix_cache_turns : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        mdl = model_open(test_backend(), GetParam());
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        for (auto & c : name) c = c == '/' ? '_' : c;
        dir = fs::temp_directory_path() / ("muse-prefix-cache-" + std::to_string(::getpid()) + "-" + name);
        fs::remove_all(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    bool sliding() const { return llama_model_n_swa(mdl->get()) > 0; }

    std::unique_ptr<model> mdl;
    fs::path               dir;
};

struct turn {
    std::vector<int32_t> tokens;
    std::string          text;
    sequence_stats       stats;
};

turn turn_take(session & s, prefix_cache & cache, const std::string & owner, const chat_prompt & p) {
    auto sp       = greedy(12);
    sp.keep_cells = true;
    const auto h  = cache.sequence_add(owner, p, {}, sp);
    turn       t;
    t.text   = run_to_end(s, h).second;
    t.tokens = s.sequence(h).tokens;
    t.stats  = s.sequence(h);
    cache.keep(owner, "conv-" + owner, h);
    return t;
}

// A first question long enough for a restore to be worth it (restore_min_tokens).
chat_request conversation(const std::string & topic) {
    auto        req   = dated_request();
    std::string notes = "Here are my notes on " + topic + ":";
    for (int i = 0; i < 40; ++i) notes += " item" + std::to_string(i);
    req.messages.push_back({ "user", notes + "\nWhat is the first item?", {}, "", {}, "", "" });
    return req;
}

void reply_add(chat_request & req, const turn & t, const std::string & next) {
    req.messages.push_back({ "assistant", t.text, {}, "", {}, "", "" });
    req.messages.push_back({ "user", next, {}, "", {}, "", "" });
}

size_t kv_files(const fs::path & dir) {
    size_t          n = 0;
    std::error_code ec;
    for (const auto & f : fs::directory_iterator(dir, ec)) n += f.path().extension() == ".kv";
    return n;
}

}  // namespace

TEST_P(prefix_cache_turns, each_turn_decodes_only_what_it_adds) {
    session      s(*mdl, context_small(2));
    prefix_cache cache(s);
    auto         req = conversation("rivers");
    std::vector<int32_t> n_tokens;
    for (int round = 0; round < 3; ++round) {
        const auto prompt = chat_format(*mdl, req, mdl->media_marker());
        const auto full   = (int32_t) mdl->tokenize(prompt.text()).size();
        const auto t      = turn_take(s, cache, "alice", prompt);
        expect_greedy_equals_alone(*mdl, prompt, t.tokens, 12, "turn " + std::to_string(round));
        EXPECT_EQ(t.stats.n_prompt + t.stats.n_shared, full) << "turn " << round;
        if (round == 0) {
            EXPECT_EQ(t.stats.n_shared, 0);
        } else if (!sliding()) {
            EXPECT_GE(t.stats.n_shared, n_tokens.back() - 1) << "turn " << round << " decoded the last prompt again";
        }
        EXPECT_EQ(s.n_live(), 1) << "the conversation's cells, taken over turn by turn";
        n_tokens.push_back(full);
        reply_add(req, t, "And the next one?");
    }
    EXPECT_EQ(cache.stats().entries_pool, 1u);
    cache.clear();
    EXPECT_EQ(s.n_live(), 0);

    // After a clear, a new conversation starts afresh and is kept again.
    const auto other = user_prompt(*mdl, "Something else entirely.");
    const auto t     = turn_take(s, cache, "alice", other);
    EXPECT_EQ(t.stats.n_shared, 0);
    expect_greedy_equals_alone(*mdl, other, t.tokens, 12);
    EXPECT_EQ(s.n_live(), 1);
}

// A turn whose prompt overflows the context is refused and leaves the conversation's cells as
// they were: the next turn still starts from them.
TEST_P(prefix_cache_turns, a_prompt_over_the_context_leaves_the_cache_as_it_was) {
    session      s(*mdl, context_small(2, 512));
    prefix_cache cache(s);
    auto         req = dated_request();
    req.messages.push_back({ "user", "Hello there.", {}, "", {}, "", "" });
    turn_take(s, cache, "alice", chat_format(*mdl, req, mdl->media_marker()));
    ASSERT_EQ(s.n_live(), 1);

    auto        longer = req;
    std::string text;
    for (int i = 0; i < 400; ++i) text += "word" + std::to_string(i) + " ";
    longer.messages.push_back({ "assistant", "Hi.", {}, "", {}, "", "" });
    longer.messages.push_back({ "user", text, {}, "", {}, "", "" });
    auto sp       = greedy(4);
    sp.keep_cells = true;
    EXPECT_THROW(cache.sequence_add("alice", chat_format(*mdl, longer, mdl->media_marker()), {}, sp), input_error);
    EXPECT_EQ(s.n_live(), 1) << "the refused turn left a sequence behind, or took the entry";

    auto next = req;
    next.messages.push_back({ "assistant", "Hi.", {}, "", {}, "", "" });
    next.messages.push_back({ "user", "How are you?", {}, "", {}, "", "" });
    const auto t = turn_take(s, cache, "alice", chat_format(*mdl, next, mdl->media_marker()));
    if (!sliding()) EXPECT_GT(t.stats.n_shared, 0);
    EXPECT_EQ(s.n_live(), 1);
}

// In one KV pool and in a stream per sequence (muse serve's default): a conversation that
// goes on takes its cells over; another one of the same owner that shares only the beginning
// gets a copy of that part, and the first conversation's entry stays.
TEST_P(prefix_cache_turns, a_shared_beginning_is_copied_and_the_entry_stays) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    for (const bool unified : { true, false }) {
        SCOPED_TRACE(unified ? "one KV pool" : "a KV stream per sequence");
        auto cp       = context_small(3);
        cp.kv_unified = unified;
        session      s(*mdl, cp);
        prefix_cache cache(s);
        auto         a  = conversation("rivers");
        const auto   ta = turn_take(s, cache, "alice", chat_format(*mdl, a, mdl->media_marker()));
        reply_add(a, ta, "And the next one?");
        const auto p2 = chat_format(*mdl, a, mdl->media_marker());
        const auto t2 = turn_take(s, cache, "alice", p2);
        EXPECT_GT(t2.stats.n_shared, 32);
        expect_greedy_equals_alone(*mdl, p2, t2.tokens, 12, "the conversation going on");
        EXPECT_EQ(s.n_live(), 1);

        // The same notes, another question: shares the beginning only.
        auto b = conversation("rivers");
        b.messages.back().content += " And what is the last one?";
        const auto pb = chat_format(*mdl, b, mdl->media_marker());
        const auto tb = turn_take(s, cache, "alice", pb);
        EXPECT_GT(tb.stats.n_shared, 32) << "the shared beginning was decoded again";
        expect_greedy_equals_alone(*mdl, pb, tb.tokens, 12, "a copy of the beginning");
        EXPECT_EQ(cache.stats().entries_pool, 2u) << "the first conversation's entry went";

        reply_add(a, t2, "And one more?");
        const auto p3 = chat_format(*mdl, a, mdl->media_marker());
        const auto t3 = turn_take(s, cache, "alice", p3);
        EXPECT_GT(t3.stats.n_shared, t2.stats.n_shared) << "the first conversation lost its cells";
        expect_greedy_equals_alone(*mdl, p3, t3.tokens, 12, "the first conversation again");
    }
}

// A prefix the operator shares (a system prompt): decoded once, copied into every owner's
// request that starts with it; it stays, and an owner gets from it exactly the shared part.
TEST_P(prefix_cache_turns, a_shared_prefix_serves_every_owner_and_stays) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    for (const bool unified : { true, false }) {
        SCOPED_TRACE(unified ? "one KV pool" : "a KV stream per sequence");
        auto cp       = context_small(4);
        cp.kv_unified = unified;
        session      s(*mdl, cp);
        prefix_cache cache(s);
        std::string  system = "You are an assistant for a shop that sells maps:";
        for (int i = 0; i < 30; ++i) system += " region" + std::to_string(i);
        const auto rendered = [&](const std::string & user) {
            auto req = dated_request();
            req.messages.push_back({ "system", system, {}, "", {}, "", "" });
            req.messages.push_back({ "user", user, {}, "", {}, "", "" });
            return chat_format(*mdl, req, mdl->media_marker());
        };
        const auto a = mdl->tokenize(rendered("a").text()), b = mdl->tokenize(rendered("b").text());
        size_t     n = 0;
        while (n < a.size() && n < b.size() && a[n] == b[n]) n++;
        ASSERT_GT(n, 32u);
        cache.share(std::vector<int32_t>(a.begin(), a.begin() + (std::ptrdiff_t) n));
        const int64_t decoded = s.n_decoded();
        EXPECT_EQ(decoded, (int64_t) n) << "the shared prefix is decoded once, at share()";

        const auto pa = rendered("Which map shows the Alps?");
        const auto ta = turn_take(s, cache, "alice", pa);
        EXPECT_EQ(ta.stats.n_shared, (int32_t) n);
        expect_greedy_equals_alone(*mdl, pa, ta.tokens, 12, "alice from the shared prefix");
        const auto pb = rendered("Which map shows the Andes?");
        const auto tb = turn_take(s, cache, "bob", pb);
        EXPECT_EQ(tb.stats.n_shared, (int32_t) n) << "bob got more than the shared part (alice's cells?)";
        expect_greedy_equals_alone(*mdl, pb, tb.tokens, 12, "bob from the shared prefix");
        EXPECT_EQ(cache.stats().entries_pool, 3u) << "the shared prefix and the two conversations";
        cache.forget("alice");
        cache.forget("bob");
        EXPECT_EQ(cache.stats().entries_pool, 1u) << "forgetting users took the shared prefix";
    }
}

// Bob sending Alice's exact prompt gets nothing from her entry; Alice's next turn still does.
TEST_P(prefix_cache_turns, an_entry_serves_only_its_owner) {
    session      s(*mdl, context_small(4));
    prefix_cache cache(s);
    const auto   req    = conversation("lakes");
    const auto   prompt = chat_format(*mdl, req, mdl->media_marker());
    const auto   a      = turn_take(s, cache, "alice", prompt);
    const auto   b      = turn_take(s, cache, "bob", prompt);
    EXPECT_EQ(b.stats.n_shared, 0) << "bob was served from alice's cells";
    EXPECT_EQ(b.tokens, a.tokens);
    auto next = req;
    reply_add(next, a, "And the next one?");
    const auto a2 = turn_take(s, cache, "alice", chat_format(*mdl, next, mdl->media_marker()));
    if (!sliding()) EXPECT_GT(a2.stats.n_shared, 0);
    EXPECT_EQ(cache.stats().entries_pool, 2u);  // alice's and bob's
}

// Two slots, three conversations and no RAM: the least recently used goes to disk, and its
// next turn comes back from there and generates what a cold run generates.
TEST_P(prefix_cache_turns, entries_pushed_out_come_back_from_disk) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    session             s(*mdl, context_small(2));
    prefix_cache_params cp;
    cp.disk_bytes = 1ull << 30;
    cp.disk_dir   = dir;
    prefix_cache                        cache(s, cp);
    std::map<std::string, chat_request> convs;
    std::map<std::string, turn>         first;
    for (const std::string who : { "a", "b", "c" }) {
        convs[who] = conversation(who == "a" ? "alpha" : who == "b" ? "beta" : "gamma");
        first[who] = turn_take(s, cache, who, chat_format(*mdl, convs[who], mdl->media_marker()));
    }
    // a was pushed out for c (two slots): to disk.
    auto st = cache.stats();
    EXPECT_EQ(st.entries_pool, 2u);
    EXPECT_EQ(st.entries_disk, 1u);
    EXPECT_EQ(kv_files(dir), 1u);
    EXPECT_EQ(st.evictions, 1u);

    reply_add(convs["a"], first["a"], "And the next one?");
    const auto prompt = chat_format(*mdl, convs["a"], mdl->media_marker());
    const auto again  = turn_take(s, cache, "a", prompt);
    EXPECT_GT(again.stats.n_shared, 32) << "a's cells did not come back from disk";
    expect_greedy_equals_alone(*mdl, prompt, again.tokens, 12, "a from disk");
    EXPECT_EQ(cache.stats().hits_disk, 1u);
    EXPECT_EQ(kv_files(dir), 1u) << "b went to disk for a, and a's file went with its entry";
}

TEST_P(prefix_cache_turns, entries_in_ram_come_back) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    session             s(*mdl, context_small(1));
    prefix_cache_params cp;
    cp.ram_bytes = 1ull << 30;
    prefix_cache cache(s, cp);
    auto         a  = conversation("alpha");
    const auto   ta = turn_take(s, cache, "a", chat_format(*mdl, a, mdl->media_marker()));
    auto         b  = conversation("beta");
    turn_take(s, cache, "b", chat_format(*mdl, b, mdl->media_marker()));  // one slot: a goes to RAM
    EXPECT_EQ(cache.stats().entries_ram, 1u);
    reply_add(a, ta, "And the next one?");
    const auto prompt = chat_format(*mdl, a, mdl->media_marker());
    const auto again  = turn_take(s, cache, "a", prompt);
    EXPECT_GT(again.stats.n_shared, 32);
    expect_greedy_equals_alone(*mdl, prompt, again.tokens, 12, "a from RAM");
    EXPECT_EQ(cache.stats().hits_ram, 1u);
    EXPECT_EQ(cache.stats().entries_ram, 1u) << "b, pushed out for a";
}

// A spill file damaged on disk is refused (never restored): the turn is decoded afresh and
// still right.
TEST_P(prefix_cache_turns, a_damaged_file_is_refused_and_the_turn_decoded_afresh) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    session             s(*mdl, context_small(1));
    prefix_cache_params cp;
    cp.disk_bytes = 1ull << 30;
    cp.disk_dir   = dir;
    prefix_cache cache(s, cp);
    auto         a  = conversation("alpha");
    const auto   ta = turn_take(s, cache, "a", chat_format(*mdl, a, mdl->media_marker()));
    turn_take(s, cache, "b", chat_format(*mdl, conversation("beta"), mdl->media_marker()));
    ASSERT_EQ(kv_files(dir), 1u);
    for (const auto & f : fs::directory_iterator(dir)) {
        std::fstream io(f.path(), std::ios::in | std::ios::out | std::ios::binary);
        io.seekp((std::streamoff) fs::file_size(f.path()) / 2);
        io.put('\x5a').put('\xa5').put('\x5a');
    }
    reply_add(a, ta, "And the next one?");
    const auto prompt = chat_format(*mdl, a, mdl->media_marker());
    const auto again  = turn_take(s, cache, "a", prompt);
    EXPECT_EQ(again.stats.n_shared, 0) << "cells from a damaged file were used";
    expect_greedy_equals_alone(*mdl, prompt, again.tokens, 12, "a decoded afresh");
    EXPECT_EQ(cache.stats().corrupt, 1u);
}

// Files outlive the process that wrote them: a new cache on the same folder (a restarted
// server) serves them; forget() deletes an owner's.
TEST_P(prefix_cache_turns, files_survive_a_restart_and_go_with_their_owner) {
    if (sliding()) GTEST_SKIP() << "a sliding-window cache keeps a window, not the whole prefix";
    session             s(*mdl, context_small(2));
    prefix_cache_params cp;
    cp.disk_bytes = 1ull << 30;
    cp.disk_dir   = dir;
    auto a        = conversation("alpha");
    turn ta;
    {
        prefix_cache cache(s, cp);
        ta = turn_take(s, cache, "a", chat_format(*mdl, a, mdl->media_marker()));
        turn_take(s, cache, "b", chat_format(*mdl, conversation("beta"), mdl->media_marker()));
        cache.slots_make(2);  // both to disk
        EXPECT_EQ(kv_files(dir), 2u);
    }
    ASSERT_EQ(s.n_live(), 0);
    prefix_cache cache(s, cp);
    EXPECT_EQ(cache.stats().entries_disk, 2u);
    reply_add(a, ta, "And the next one?");
    const auto prompt = chat_format(*mdl, a, mdl->media_marker());
    const auto again  = turn_take(s, cache, "a", prompt);
    EXPECT_GT(again.stats.n_shared, 32) << "the restarted cache did not serve a's file";
    expect_greedy_equals_alone(*mdl, prompt, again.tokens, 12, "a after a restart");
    cache.forget("b");
    cache.forget("a", "conv-a");
    EXPECT_EQ(kv_files(dir), 0u) << "a forgotten owner's file is still there";
    EXPECT_EQ(s.n_live(), 0);
}

// One KV pool (unified) with room for little more than one conversation: a parked entry's
// cells go when a running request needs them (running requests come first).
TEST_P(prefix_cache_turns, a_full_pool_takes_parked_cells_back) {
    auto cp       = context_small(2, 512);
    cp.kv_unified = true;
    session      s(*mdl, cp);
    prefix_cache cache(s);
    s.set_step_hooks({ {}, {}, [&] { return cache.cells_give_back(); } });
    // A prompt of about `n` tokens.
    const auto prompt_of = [&](const std::string & head, int32_t n) {
        std::string text = head;
        for (int i = 0;; ++i) {
            auto p = user_prompt(*mdl, text);
            if ((int32_t) mdl->tokenize(p.text()).size() >= n) return p;
            for (int k = 0; k < 8; ++k) text += " word" + std::to_string(8 * i + k);
        }
    };
    ASSERT_EQ(s.n_ctx(), 512);
    turn_take(s, cache, "a", prompt_of("First:", 200));
    ASSERT_EQ(cache.stats().entries_pool, 1u);
    const auto prompt = prompt_of("Second, longer:", 400);  // with a's 200 cells, over the 512
    auto       sp     = greedy(12);
    const auto h      = cache.sequence_add("b", prompt, {}, sp);
    const auto got    = run_to_end(s, h).first;
    EXPECT_NE(s.sequence(h).reason, FINISH_REASON_CONTEXT) << "the parked cells were kept over a running request";
    expect_greedy_equals_alone(*mdl, prompt, got, 12, "b");
    EXPECT_EQ(cache.stats().entries_pool, 0u);
    s.sequence_release(h);
}

INSTANTIATE_TEST_SUITE_P(tiny, prefix_cache_turns, ::testing::ValuesIn(tiny_models()), model_param_name);
