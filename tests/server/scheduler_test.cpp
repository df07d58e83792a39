// The server's scheduler on a real model: requests join a running batch and still produce
// what they produce alone; n choices share one prompt decode; cancel, timeout, the queue
// bound and an over-long prompt; a contemplation shares the decode steps with plain requests.
#include "server/scheduler.h"
#include "test-util.h"

#include <thread>

using namespace muse;
using namespace muse::test;
using namespace muse::server;

namespace {

constexpr auto wait_step = std::chrono::milliseconds(50);

struct collected {
    std::vector<std::string>          text;     // per choice
    std::vector<finish_reason>        reasons;  // per choice
    std::vector<std::vector<int32_t>> tokens;   // per choice, when the job asked for top_logprobs
    int                               progress = 0;
};

collected collect(job & j, int n) {
    collected c;
    c.text.resize((size_t) n);
    c.reasons.resize((size_t) n, FINISH_REASON_NONE);
    c.tokens.resize((size_t) n);
    std::vector<job_event> evs;
    while (j.events_take(evs, wait_step)) {
        for (auto & ev : evs) {
            if (ev.kind == job_event::PROGRESS) {
                c.progress++;
                continue;
            }
            c.text[(size_t) ev.choice] += ev.text;
            if (ev.token >= 0) c.tokens[(size_t) ev.choice].push_back(ev.token);
            if (ev.finished) c.reasons[(size_t) ev.choice] = ev.reason;
        }
        evs.clear();
    }
    return c;
}

class scheduler_fixture : public ::testing::Test {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), "qwen3-tiny.gguf"); }

    job_params plain(const std::string & question, int32_t max_tokens, int n = 1) {
        job_params p;
        p.prompt = std::make_shared<const chat_prompt>(user_prompt(*mdl, question));
        p.params = greedy(max_tokens);
        p.n      = n;
        return p;
    }

    std::string alone(const std::string & question, int32_t max_tokens) {
        session s(*mdl, context_small());
        return run_to_end(s, s.sequence_add(user_prompt(*mdl, question), {}, greedy(max_tokens))).second;
    }

    std::unique_ptr<model> mdl;
};

// Split KV (a stream per sequence), as muse serve runs by default, unless asked for unified.
context_params server_context(int max_sequences, bool unified = false) {
    auto cp       = context_small(max_sequences, 1024 * max_sequences);
    cp.kv_unified = unified;
    return cp;
}

}  // namespace

TEST_F(scheduler_fixture, a_request_joins_a_running_batch_and_both_equal_their_single_runs) {
    const std::string expect_a = alone("Tell me about rivers.", 48);
    const std::string expect_b = alone("Name three planets.", 16);

    session   s(*mdl, server_context(4));
    scheduler sched(s, { 4, 8 });
    auto a = sched.submit(plain("Tell me about rivers.", 48));
    ASSERT_FALSE(a->wait_admitted());
    // Let A run a few steps, then B arrives: it must start before A ends.
    std::vector<job_event> first;
    while (first.empty()) a->events_take(first, wait_step);
    auto b = sched.submit(plain("Name three planets.", 16));
    ASSERT_FALSE(b->wait_admitted());
    auto got_b = collect(*b, 1);
    EXPECT_TRUE(sched.load().busy > 0) << "A should still be running when B (16 tokens) is done";
    auto got_a = collect(*a, 1);
    std::string a_text;
    for (auto & ev : first) a_text += ev.text;
    EXPECT_EQ(a_text + got_a.text[0], expect_a);
    EXPECT_EQ(got_b.text[0], expect_b);
    EXPECT_EQ(sched.load().busy, 0);
}

TEST_F(scheduler_fixture, n_choices_decode_the_prompt_once) {
    for (bool unified : { false, true }) {
        SCOPED_TRACE(unified ? "unified KV" : "split KV");
        session   s(*mdl, server_context(4, unified));
        scheduler sched(s, { 4, 8 });
        // The tokens come with the events (top_logprobs), so that each choice can be checked
        // against the lone run up to near ties: on an Intel Xeon (AVX512-FP16) the three
        // batched choices took " vez" 12 times where the lone run, at a near tie, took it 10.
        auto params               = plain("What is two plus two?", 20, 3);
        params.params.top_logprobs = 1;
        auto j                    = sched.submit(params);
        ASSERT_FALSE(j->wait_admitted());
        auto got = collect(*j, 3);
        for (int i = 0; i < 3; ++i) {
            expect_greedy_equals_alone(*mdl, user_prompt(*mdl, "What is two plus two?"), got.tokens[(size_t) i], 20,
                                       "choice " + std::to_string(i));
            EXPECT_EQ(j->generated[(size_t) i], 20);
        }
        // One prompt decode plus each choice's tokens: a second prompt decode would add ~30.
        EXPECT_GE(s.n_decoded(), j->prompt_tokens + 3 * 19);
        EXPECT_LE(s.n_decoded(), j->prompt_tokens + 3 * 20);
    }
}

TEST_F(scheduler_fixture, seeded_choices_differ_and_repeat) {
    auto run = [&] {
        session   s(*mdl, server_context(4));
        scheduler sched(s, { 4, 8 });
        auto      p             = plain("Tell me a story.", 16, 3);
        p.params.sampling       = sampling_params{};
        p.params.sampling.seed  = 7;
        p.params.sampling.temperature = 1.0f;
        auto j = sched.submit(std::move(p));
        EXPECT_FALSE(j->wait_admitted());
        return collect(*j, 3).text;
    };
    const auto first = run();
    EXPECT_EQ(run(), first);
    EXPECT_TRUE(first[0] != first[1] || first[1] != first[2]);
}

TEST_F(scheduler_fixture, cancel_frees_the_slots_within_a_step) {
    session   s(*mdl, server_context(2));
    scheduler sched(s, { 2, 8 });
    auto p = plain("Write a long essay.", 100000);
    p.params.sampling.ignore_eos = true;
    auto j = sched.submit(std::move(p));
    ASSERT_FALSE(j->wait_admitted());
    std::vector<job_event> evs;
    while (evs.empty()) j->events_take(evs, wait_step);
    j->cancel();
    auto got = collect(*j, 1);
    EXPECT_EQ(got.reasons[0], FINISH_REASON_CANCELLED);
    EXPECT_EQ(sched.load().busy, 0);
    // The slot serves the next request.
    auto next = sched.submit(plain("Hi", 4));
    ASSERT_FALSE(next->wait_admitted());
    EXPECT_EQ(collect(*next, 1).reasons[0], FINISH_REASON_LENGTH);
}

TEST_F(scheduler_fixture, a_timeout_ends_the_request_as_length) {
    session   s(*mdl, server_context(2));
    scheduler sched(s, { 2, 8 });
    auto p = plain("Write a long essay.", 100000);
    p.params.sampling.ignore_eos = true;
    p.timeout_secs               = 0.3;
    auto j = sched.submit(std::move(p));
    ASSERT_FALSE(j->wait_admitted());
    auto got = collect(*j, 1);
    EXPECT_EQ(got.reasons[0], FINISH_REASON_LENGTH);
    EXPECT_TRUE(j->timed_out);
}

TEST_F(scheduler_fixture, the_queue_is_bounded) {
    session   s(*mdl, server_context(1));
    scheduler sched(s, { 1, 1 });
    std::vector<std::shared_ptr<job>> jobs;
    int refused = 0;
    for (int i = 0; i < 4; ++i) {
        auto p = plain("Write a long essay.", 100000);
        p.params.sampling.ignore_eos = true;
        try {
            jobs.push_back(sched.submit(std::move(p)));
        } catch (const http_error & e) {
            EXPECT_EQ(e.status, 429);
            EXPECT_GT(e.retry_after, 0);
            refused++;
        }
        if (i == 0) ASSERT_FALSE(jobs[0]->wait_admitted());
    }
    EXPECT_EQ(refused, 2);  // one running, one waiting, two refused
    for (auto & j : jobs) j->cancel();
    for (auto & j : jobs) collect(*j, 1);
}

TEST_F(scheduler_fixture, a_prompt_over_the_context_is_refused_with_422) {
    session   s(*mdl, server_context(1));
    ASSERT_EQ(s.n_ctx_seq(), 1024);
    scheduler sched(s, { 1, 4 });
    std::string longer;
    for (int i = 0; i < 400; ++i) longer += "many words here ";
    auto j   = sched.submit(plain(longer, 8));
    auto err = j->wait_admitted();
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->status, 422);
    EXPECT_EQ(err->code, "context_length_exceeded");
    EXPECT_EQ(sched.load().busy, 0);
}

TEST_F(scheduler_fixture, a_contemplation_shares_the_steps_with_plain_requests) {
    for (bool unified : { false, true }) {
        SCOPED_TRACE(unified ? "unified KV" : "split KV");
        const std::string expect = alone("Name three planets.", 40);
        session   s(*mdl, server_context(6, unified));
        scheduler sched(s, { 6, 8 });
        auto plain_job = sched.submit(plain("Name three planets.", 40));
        ASSERT_FALSE(plain_job->wait_admitted());

        job_params r;
        r.reasoning_mode = true;
        r.request.messages.push_back({ "user", "What is 6 * 7?" });
        r.reason.mode       = reason::REASON_MODE_CONTEMPLATE;
        r.reason.agents     = 3;
        r.reason.max_tokens = 24;
        r.reason.sampling   = greedy(24).sampling;
        auto rj = sched.submit(std::move(r));
        ASSERT_FALSE(rj->wait_admitted());
        auto got_r = collect(*rj, 1);
        auto got_p = collect(*plain_job, 1);
        EXPECT_FALSE(rj->failure.has_value()) << (rj->failure ? rj->failure->what() : "");
        EXPECT_EQ(rj->reason_result.agents.size(), 3u);
        EXPECT_GT(got_r.progress, 0);
        EXPECT_EQ(got_p.text[0], expect) << "the plain request must not be disturbed by the contemplation";
        EXPECT_EQ(sched.load().busy, 0);
    }
}

TEST_F(scheduler_fixture, a_contemplation_waits_for_its_slots_and_too_many_agents_are_refused) {
    session   s(*mdl, server_context(4));
    scheduler sched(s, { 4, 8 });
    auto contemplation = [](int agents) {
        job_params r;
        r.reasoning_mode = true;
        r.request.messages.push_back({ "user", "What is 6 * 7?" });
        r.reason.mode       = reason::REASON_MODE_CONTEMPLATE;
        r.reason.agents     = agents;
        r.reason.max_tokens = 8;
        r.reason.sampling   = greedy(8).sampling;
        return r;
    };
    try {
        sched.submit(contemplation(3));  // 3 + 2 slots > 4
        FAIL() << "5 slots on a 4-slot server must be refused";
    } catch (const http_error & e) {
        EXPECT_EQ(e.status, 400);
        EXPECT_EQ(e.param, "muse.agents");
    }
    // Two agents (4 slots) while a plain request holds one: the contemplation starts when it ends.
    auto plain_job = sched.submit(plain("Name three planets.", 24));
    ASSERT_FALSE(plain_job->wait_admitted());
    auto rj = sched.submit(contemplation(2));
    ASSERT_FALSE(rj->wait_admitted());
    EXPECT_EQ(collect(*plain_job, 1).reasons[0], FINISH_REASON_LENGTH);
    collect(*rj, 1);
    EXPECT_FALSE(rj->failure.has_value());
    EXPECT_EQ(rj->reason_result.agents.size(), 2u);
    EXPECT_EQ(sched.load().busy, 0);
}

// The prefix cache in the scheduler: a finished request's cells stay as its owner's entry,
// the owner's next turn reuses them (job::cached_tokens), another owner's does not; with one
// KV pool, parked cells give way to a running request that needs them.
TEST_F(scheduler_fixture, finished_requests_stay_cached_for_their_owner_and_give_way) {
    auto cp       = context_small(2, 512);
    cp.kv_unified = true;
    session          s(*mdl, cp);
    scheduler_params sp;
    sp.max_sequences = 2;
    scheduler sched(s, sp);
    const auto run = [&](const std::string & owner, const std::string & question, int32_t max_tokens) {
        auto p  = plain(question, max_tokens);
        p.owner = owner;
        auto j  = sched.submit(std::move(p));
        EXPECT_FALSE(j->wait_admitted().has_value());
        const auto c = collect(*j, 1);
        return std::make_tuple(j->cached_tokens, j->prompt_tokens, c.text[0], c.reasons[0]);
    };
    std::string notes = "My notes:";
    for (int i = 0; i < 30; ++i) notes += " item" + std::to_string(i);
    const auto [c1, p1, t1, r1] = run("alice", notes, 6);
    EXPECT_EQ(c1, 0);
    const auto [c2, p2, t2, r2] = run("alice", notes, 6);
    EXPECT_GE(c2, p1 - 1) << "alice's second identical request decoded her prompt again";
    EXPECT_EQ(t2, t1);
    const auto [c3, p3, t3, r3] = run("bob", notes, 6);
    EXPECT_EQ(c3, 0) << "bob was served from alice's cells";
    EXPECT_EQ(sched.cache_stats().entries_pool, 2u);

    // 512 cells: alice's and bob's parked ones must go for this one.
    std::string longer = "More notes:";
    for (int i = 0; i < 110; ++i) longer += " entry" + std::to_string(i);
    const auto [c4, p4, t4, r4] = run("carol", longer, 8);
    EXPECT_GT(p4, 300);
    EXPECT_NE(r4, FINISH_REASON_CONTEXT) << "parked cells were kept over a running request";
    EXPECT_EQ(t4, alone(longer, 8));
    EXPECT_GE(sched.cache_stats().evictions, 1u);

    const auto entries = [&] {
        const auto st = sched.cache_stats();
        return st.entries_pool + st.entries_ram + st.entries_disk;
    };
    const auto before = entries();
    sched.cache_forget("carol");
    EXPECT_EQ(entries(), before - 1) << "carol's entry is still there";
}
