// Constrained output: JSON-schema and GBNF answers are always valid, even with random
// weights; the thinking budget is never exceeded.
#include "engine/error.h"
#include "engine/grammar-bounds.h"
#include "test-util.h"
#include "llama.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <regex>

using namespace muse;
using namespace muse::test;
using nlohmann::json;

namespace {

const char * person_schema = R"({
  "type": "object",
  "properties": {
    "name":    { "type": "string", "maxLength": 12 },
    "age":     { "type": "integer", "minimum": 0, "maximum": 150 },
    "mood":    { "enum": ["happy", "sad", "calm"] },
    "tags":    { "type": "array", "items": { "type": "string", "maxLength": 6 }, "maxItems": 3 },
    "married": { "type": "boolean" }
  },
  "required": ["name", "age", "mood", "tags", "married"],
  "additionalProperties": false
})";

// The checks the schema above asks for, written out (no C++ JSON-schema validator is packaged
// in Debian; tests/cli also validates CLI output with ajv).
std::string person_violation(const json & j) {
    if (!j.is_object()) return "not an object";
    for (const char * k : { "name", "age", "mood", "tags", "married" }) {
        if (!j.contains(k)) return std::string("missing ") + k;
    }
    if (j.size() != 5) return "additional properties";
    if (!j["name"].is_string() || j["name"].get<std::string>().size() > 12 * 4) return "name";
    if (!j["age"].is_number_integer() || j["age"].get<int64_t>() < 0 || j["age"].get<int64_t>() > 150) return "age";
    const auto mood = j["mood"].is_string() ? j["mood"].get<std::string>() : "";
    if (mood != "happy" && mood != "sad" && mood != "calm") return "mood";
    if (!j["tags"].is_array() || j["tags"].size() > 3) return "tags";
    for (const auto & t : j["tags"]) {
        if (!t.is_string()) return "tag type";
    }
    if (!j["married"].is_boolean()) return "married";
    return "";
}

std::string token_piece(const model & m, int32_t tok) {
    char buf[256];
    const int n = llama_token_to_piece(m.vocab(), tok, buf, sizeof(buf), 0, true);
    return n > 0 ? std::string(buf, (size_t) n) : std::string();
}

class constrained : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), GetParam()); }
    std::unique_ptr<model> mdl;
};

}  // namespace

TEST_P(constrained, json_schema_answers_parse_and_validate_for_50_seeds) {
    chat_request req = dated_request();
    req.messages.push_back({ "user", "Describe a person as JSON.", {}, "", {}, "", "" });
    req.json_schema     = person_schema;
    req.enable_thinking = false;
    const auto prompt   = chat_format(*mdl, req, mdl->media_marker());
    ASSERT_TRUE(prompt.has_grammar());

    // Five sequences at a time in one batch: the grammar holds per sequence.
    int n_ok = 0;
    seeds_run(*mdl, prompt, 50, 400, 4096, [&](uint32_t seed, const std::string & text, finish_reason reason) {
        ASSERT_EQ(reason, FINISH_REASON_STOP) << "seed " << seed << " did not finish its JSON: " << text;
        const auto parsed = chat_parse(prompt, text, false);
        json       j      = json::parse(parsed.content, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "seed " << seed << ": not JSON: " << parsed.content << "\nRAW: " << text;
        EXPECT_EQ(person_violation(j), "") << "seed " << seed << ": " << parsed.content;
        n_ok++;
    });
    EXPECT_EQ(n_ok, 50);
}

TEST_P(constrained, gbnf_grammar_output_always_matches) {
    chat_request req = dated_request();
    req.messages.push_back({ "user", "Give me a date.", {}, "", {}, "", "" });
    req.grammar         = R"(root ::= year "-" month "-" day
year ::= [12] [0-9] [0-9] [0-9]
month ::= "0" [1-9] | "1" [0-2]
day ::= "0" [1-9] | [12] [0-9] | "3" [01])";
    req.enable_thinking = false;
    const auto       prompt = chat_format(*mdl, req, mdl->media_marker());
    const std::regex date(R"([12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))");
    session          s(*mdl, context_small());
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        sequence_params sp;
        sp.sampling.seed        = seed;
        sp.sampling.temperature = 1.5f;
        sp.max_tokens           = 40;
        auto h                  = s.sequence_add(prompt, {}, sp);
        auto text               = run_to_end(s, h).second;
        s.sequence_release(h);
        EXPECT_TRUE(std::regex_match(text, date)) << "seed " << seed << ": \"" << text << "\"";
    }
}

// A grammar that parses but that no token can finish ends its own sequence with
// FINISH_REASON_ERROR; the sequence beside it in the batch goes on to its max_tokens, and the
// session takes new work (the sampler's exception left the step: muse serve failed every
// running request).
TEST_P(constrained, a_dead_end_grammar_ends_its_sequence_alone) {
    chat_request bad = dated_request();
    bad.messages.push_back({ "user", "Hi", {}, "", {}, "", "" });
    bad.grammar         = R"(root ::= "a" [^\x00-\U0010FFFF])";
    bad.enable_thinking = false;
    chat_request good   = bad;
    good.grammar.clear();
    const auto      bad_prompt  = chat_format(*mdl, bad, mdl->media_marker());
    const auto      good_prompt = chat_format(*mdl, good, mdl->media_marker());
    session         s(*mdl, context_small(2));
    sequence_params sp;
    sp.sampling.seed        = 1;
    sp.sampling.temperature = 1.0f;
    sp.max_tokens           = 12;
    sp.sampling.ignore_eos  = true;
    const auto hb = s.sequence_add(bad_prompt, {}, sp);
    const auto hg = s.sequence_add(good_prompt, {}, sp);
    while (s.has_work()) s.step();
    EXPECT_EQ(s.sequence(hb).reason, FINISH_REASON_ERROR);
    EXPECT_NE(s.sequence(hb).error.find("sampling failed"), std::string::npos) << s.sequence(hb).error;
    EXPECT_EQ(s.sequence(hg).reason, FINISH_REASON_LENGTH);
    EXPECT_EQ(s.sequence(hg).n_generated, 12);
    s.sequence_release(hb);
    s.sequence_release(hg);
    const auto again = s.sequence_add(good_prompt, {}, sp);
    while (s.has_work()) s.step();
    EXPECT_EQ(s.sequence(again).reason, FINISH_REASON_LENGTH);
}

// tool_choice "required": whatever the weights, the answer is a call of a defined tool with
// JSON-object arguments (the template's tool grammar, not lazy).
TEST_P(constrained, required_tool_calls_are_always_valid_calls) {
    chat_request req = dated_request();
    req.messages.push_back({ "user", "Weather in Paris?", {}, "", {}, "", "" });
    req.tools.push_back({ "get_weather", "Weather for a city",
                          R"({"type":"object","properties":{"city":{"type":"string","maxLength":12}},"required":["city"]})" });
    req.tools.push_back({ "get_time", "Time in a timezone",
                          R"({"type":"object","properties":{"tz":{"type":"string","maxLength":8}},"required":["tz"]})" });
    req.tool_choice     = CHAT_TOOL_CHOICE_REQUIRED;
    req.enable_thinking = false;
    const auto prompt   = chat_format(*mdl, req, mdl->media_marker());
    ASSERT_TRUE(prompt.has_grammar()) << "tool_choice required must constrain the answer";
    // Muse Glimmer's ATEM calls carry parameter values as free text up to a closing tag (the
    // template's format): random weights may not close one within the budget. Every call that
    // does end must be valid, and JSON-argument formats must always end.
    const bool free_text_params = GetParam().find("glimmer") != std::string::npos;
    int n_ok = 0;
    seeds_run(*mdl, prompt, 10, 300, 4096, [&](uint32_t seed, const std::string & text, finish_reason reason) {
        if (free_text_params && reason == FINISH_REASON_LENGTH) {
            n_ok++;
            return;
        }
        ASSERT_EQ(reason, FINISH_REASON_STOP) << "seed " << seed << " did not finish its call: " << text;
        const auto parsed = chat_parse(prompt, text, false);
        ASSERT_GE(parsed.tool_calls.size(), 1u) << "seed " << seed << ": " << text;
        EXPECT_EQ(parsed.tool_calls.size(), 1u) << "parallel_tool_calls is off: one call at most; " << text;
        for (const auto & tc : parsed.tool_calls) {
            EXPECT_TRUE(tc.name == "get_weather" || tc.name == "get_time") << tc.name;
            EXPECT_TRUE(json::parse(tc.arguments, nullptr, false).is_object()) << tc.arguments;
        }
        n_ok++;
    });
    EXPECT_EQ(n_ok, 10);
}

// Forced calls (tool_choice required, or one tool named: the server narrows the tools to it) end
// with a valid call within a small bound on every template, parallel calls on or off: the
// tool's name after Muse Glimmer's " to=" and its bounded parameters are the grammar's, not
// the weights' (the grammar let any text follow " to=", and runs to max_tokens were the rule).
TEST_P(constrained, forced_tool_calls_end_within_a_bound_on_every_template) {
    // An enum is a bound too (Muse Glimmer's ATEM wrote an enum parameter as free text).
    const chat_tool weather{ "get_weather", "Weather for a city",
                             R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},"days":{"type":"integer"},)"
                             R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city","unit"]})" };
    const chat_tool clock{ "get_time", "Time in a timezone",
                           R"({"type":"object","properties":{"tz":{"type":"string","maxLength":8}},"required":["tz"]})" };
    constexpr int32_t bound = 224;  // tokens per call (three parameters, and the grammar's whitespace)
    for (const bool named : { false, true }) {
        for (const bool parallel : { false, true }) {
            SCOPED_TRACE(std::string(named ? "one tool named" : "required") + (parallel ? ", parallel calls" : ""));
            chat_request req = dated_request();
            req.messages.push_back({ "user", "Weather in Paris?", {}, "", {}, "", "" });
            req.tools = named ? std::vector<chat_tool>{ weather } : std::vector<chat_tool>{ weather, clock };
            req.tool_choice         = CHAT_TOOL_CHOICE_REQUIRED;
            req.parallel_tool_calls = parallel;
            req.enable_thinking     = false;
            const auto prompt       = chat_format(*mdl, req, mdl->media_marker());
            int        n_ok         = 0;
            const int32_t max_tokens = bound * (parallel ? max_parallel_tool_calls : 1);
            seeds_run(*mdl, prompt, 5, max_tokens, 4096, [&](uint32_t seed, const std::string & text, finish_reason reason) {
                ASSERT_EQ(reason, FINISH_REASON_STOP) << "seed " << seed << " did not finish in " << max_tokens << " tokens: " << text;
                const auto parsed = chat_parse(prompt, text, false);
                ASSERT_GE(parsed.tool_calls.size(), 1u) << "seed " << seed << ": " << text;
                if (!parallel) EXPECT_EQ(parsed.tool_calls.size(), 1u) << text;
                EXPECT_LE(parsed.tool_calls.size(), (size_t) max_parallel_tool_calls) << text;
                for (const auto & tc : parsed.tool_calls) {
                    EXPECT_TRUE(tc.name == "get_weather" || (!named && tc.name == "get_time")) << tc.name;
                    const auto args = json::parse(tc.arguments, nullptr, false);
                    // The required parameter is there (Muse Glimmer's ATEM grammar let a call
                    // name none), and a maxLength holds.
                    const std::string key = tc.name == "get_weather" ? "city" : "tz";
                    ASSERT_TRUE(args.is_object() && args.contains(key) && args[key].is_string()) << tc.arguments;
                    EXPECT_LE(args[key].get<std::string>().size(), (tc.name == "get_weather" ? 12u : 8u) * 4) << tc.arguments;
                    if (tc.name == "get_weather") {
                        ASSERT_TRUE(args.contains("unit") && args["unit"].is_string()) << tc.arguments;
                        EXPECT_TRUE(args["unit"] == "celsius" || args["unit"] == "fahrenheit") << tc.arguments;
                    }
                }
                n_ok++;
            });
            EXPECT_EQ(n_ok, 5);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(tiny, constrained, ::testing::ValuesIn(tiny_models()), model_param_name);

// Every number a schema's grammar allows is a finite double, and every integer is exact in a
// double (below 2^53, so int64 too):
// 1,000 answers walked through llama.cpp's grammar sampler with random choices among the
// tokens it allows (the JSON-looking tokens of a real vocabulary, the end of generation
// likelier once allowed), read by a strict parser. A model's random weights would take the
// same grammar at a full vocabulary pass per token (about 0.3 s an answer). The exponent had
// no bound: 424431813975446E5554405626054505 is Infinity to JSON.parse.
TEST(constrained_numbers, a_thousand_answers_hold_finite_numbers_and_int64_integers) {
    auto          mdl   = model_open(test_backend(), "llama-tiny.gguf");
    const auto *  vocab = mdl->vocab();
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    std::vector<llama_token> alphabet;  // tokens of 1-3 characters a JSON number or value may hold
    for (llama_token t = 0; t < n_vocab; ++t) {
        const std::string p = token_piece(*mdl, t);
        if (p.empty() || p.size() > 3) continue;
        if (p.find_first_not_of("0123456789+-.eE{}[]\":, \n\tabcdefghijklmnopqrstuvwxyz") == std::string::npos) alphabet.push_back(t);
    }
    ASSERT_GT(alphabet.size(), 500u);
    const llama_token eog = llama_vocab_eos(vocab);
    alphabet.push_back(eog);

    const std::vector<std::pair<std::string, uint32_t>> schemas = {
        { R"({"type":"number"})", 400 },
        { R"({"type":"integer"})", 300 },
        { R"({"type":"object","properties":{"x":{"type":"number"},"n":{"type":"integer"},"v":{}},"required":["x","n","v"],"additionalProperties":false})", 300 },
    };
    const std::function<void(const json &, const std::string &)> check = [&](const json & j, const std::string & text) {
        if (j.is_number_float()) EXPECT_TRUE(std::isfinite(j.get<double>())) << text;
        // Exact in a double (JSON.parse): |n| <= 2^53 - 1, so int64 too.
        if (j.is_number_unsigned()) EXPECT_LE(j.get<uint64_t>(), 9007199254740991ull) << text;
        if (j.is_number_integer() && !j.is_number_unsigned()) EXPECT_GE(j.get<int64_t>(), -9007199254740991ll) << text;
        if (j.is_object() || j.is_array()) for (const auto & x : j) check(x, text);
    };
    int n_answers = 0, n_checked = 0, n_floats = 0;
    for (const auto & [schema, n_walks] : schemas) {
        chat_request req = dated_request();
        req.messages.push_back({ "user", "Some numbers, please.", {}, "", {}, "", "" });
        req.json_schema     = schema;
        req.enable_thinking = false;
        const auto prompt   = chat_format(*mdl, req, mdl->media_marker());
        // The template's grammar starts with its generation prompt: fed first, as llama-common does.
        std::vector<llama_token> prefill(4096);
        if (!prompt.grammar_from_first_token()) {
            const auto & gp = prompt.generation_prompt();
            const int n = llama_tokenize(vocab, gp.c_str(), (int32_t) gp.size(), prefill.data(), (int32_t) prefill.size(), false, true);
            ASSERT_GT(n, 0);
            prefill.resize((size_t) n);
        } else {
            prefill.clear();
        }
        const bool integer = schema == R"({"type":"integer"})";
        for (uint32_t walk = 0; walk < n_walks; ++walk) {
            std::unique_ptr<llama_sampler, decltype(&llama_sampler_free)> g(
                llama_sampler_init_grammar(vocab, prompt.grammar().c_str(), "root"), llama_sampler_free);
            ASSERT_TRUE(g) << prompt.grammar();
            for (llama_token t : prefill) llama_sampler_accept(g.get(), t);
            std::mt19937 rng(walk + 1);
            std::string  text;
            bool         ended = false;
            std::vector<llama_token_data> cur(alphabet.size());
            for (int step = 0; step < 200 && !ended; ++step) {
                for (size_t i = 0; i < alphabet.size(); ++i) cur[i] = { alphabet[i], 0.0f, 0.0f };
                llama_token_data_array arr = { cur.data(), cur.size(), -1, false };
                llama_sampler_apply(g.get(), &arr);
                std::vector<llama_token> allowed;
                for (size_t i = 0; i < arr.size; ++i) {
                    if (arr.data[i].logit != -INFINITY) allowed.push_back(arr.data[i].id);
                }
                ASSERT_FALSE(allowed.empty()) << "the grammar allows none of the alphabet after: " << text;
                const bool may_end = std::find(allowed.begin(), allowed.end(), eog) != allowed.end();
                llama_token tok = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
                if (may_end && std::uniform_int_distribution<int>(0, 3)(rng) == 0) tok = eog;
                if (tok == eog) {
                    ended = true;
                } else {
                    llama_sampler_accept(g.get(), tok);
                    text += token_piece(*mdl, tok);
                }
            }
            n_answers++;
            if (!ended) continue;  // an untyped value may nest deeper than 200 tokens
            std::string answer = text;  // the template's grammar may fence it: ```json ... ```
            if (const size_t f = answer.find("```json"); f != std::string::npos) {
                answer = answer.substr(f + 7, answer.rfind("```") - f - 7);
            }
            const auto j = json::parse(answer, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << "walk " << walk << ": not JSON: " << text;
            check(j, text);
            n_floats += text.find_first_of(".eE") != std::string::npos;
            if (integer) EXPECT_TRUE(j.is_number_integer()) << text;
            if (j.is_object() && j.contains("n")) EXPECT_TRUE(j["n"].is_number_integer()) << text;
            n_checked++;
        }
    }
    EXPECT_EQ(n_answers, 1000);
    EXPECT_GT(n_checked, 900);
    EXPECT_GT(n_floats, 100) << "the walks should reach fractions and exponents";
}

// The conversation ends inside the reasoning (a continued assistant message), so the budget
// counts from the first generated token: random weights would rarely open a reasoning block
// on their own. Qwen3 reasons in <think>...</think>; Muse Glimmer in a to=self message.
class think_budget : public ::testing::TestWithParam<std::string> {};

TEST_P(think_budget, reasoning_never_exceeds_the_budget) {
    auto m = model_open(test_backend(), GetParam());
    for (int32_t budget : { 0, 3, 10, 25 }) {
        for (uint32_t seed : { 1u, 2u, 3u }) {
            chat_request req = dated_request();
            req.messages.push_back({ "user", "Think, then answer: 17 * 3?", {}, "", {}, "", "" });
            chat_message partial;
            partial.role      = "assistant";
            partial.reasoning = "Let me think.";
            req.messages.push_back(partial);
            req.continue_final = true;
            req.think_budget   = budget;
            const auto prompt  = chat_format(*m, req, m->media_marker());
            ASSERT_FALSE(prompt.thinking_end().empty()) << GetParam() << " has no reasoning channel";
            const std::string end_tag = prompt.thinking_end().front();

            session         s(*m, context_small());
            sequence_params sp;
            sp.sampling.seed        = seed;
            sp.sampling.temperature = 1.0f;
            sp.max_tokens           = budget + 40;
            auto h    = s.sequence_add(prompt, {}, sp);
            auto text = run_to_end(s, h).second;
            // Generated tokens up to and including the end of reasoning.
            const auto & toks = s.sequence(h).tokens;
            size_t       n_reasoning = 0;
            std::string  acc;
            for (size_t i = 0; i < toks.size() && acc.find(end_tag) == std::string::npos; ++i) {
                acc += token_piece(*m, toks[i]);
                n_reasoning = i + 1;
            }
            ASSERT_NE(acc.find(end_tag), std::string::npos) << "budget " << budget << ": reasoning never ended: " << text;
            // At most `budget` reasoning tokens, then the forced end tag (one token for both
            // models); up to 3 more only to finish a UTF-8 character the budget cut into.
            EXPECT_LE((int32_t) n_reasoning, budget + 1 + 3) << "budget " << budget << ", seed " << seed << ": " << text;
            // The reasoning and the answer are told apart.
            const auto parsed = chat_parse(prompt, text, s.sequence(h).reason != FINISH_REASON_STOP);
            EXPECT_EQ(parsed.reasoning.find(end_tag), std::string::npos);
        }
    }
}

// A schema (or a forced call) and a thinking budget together: the budget ends the reasoning
// and the constrained answer follows within max_tokens. The grammar let "<think>" be written
// in pieces the budget never saw; 296 of 300 tokens were reasoning against a budget of 16.
TEST_P(think_budget, holds_under_a_schema_and_a_forced_call) {
    auto m = model_open(test_backend(), GetParam());
    const std::string schema = R"({"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false})";
    for (const bool forced_call : { false, true }) {
        SCOPED_TRACE(forced_call ? "forced call" : "schema");
        chat_request req = dated_request();
        req.messages.push_back({ "user", "Think, then answer.", {}, "", {}, "", "" });
        if (forced_call) {
            req.tools       = { { "f", "A function", schema } };
            req.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
        } else {
            req.json_schema = schema;
        }
        req.enable_thinking = true;
        req.think_budget    = 8;
        const auto prompt   = chat_format(*m, req, m->media_marker());
        int        n_reasoned = 0;
        seeds_run(*m, prompt, 30, 200, 4096, [&](uint32_t seed, const std::string & text, finish_reason reason) {
            ASSERT_EQ(reason, FINISH_REASON_STOP) << "seed " << seed << ": " << text;
            const auto parsed = chat_parse(prompt, text, false);
            const auto reasoning_tokens = parsed.reasoning.empty() ? 0 : m->tokenize(parsed.reasoning).size();
            // The budget, the tags, and up to 3 tokens to finish a UTF-8 character; the
            // reasoning's text retokenized may differ a little from what was sampled.
            EXPECT_LE((int) reasoning_tokens, 8 + 3 + 4) << "seed " << seed << ": " << text;
            n_reasoned += !parsed.reasoning.empty();
            const auto args = forced_call ? (parsed.tool_calls.empty() ? std::string() : parsed.tool_calls[0].arguments) : parsed.content;
            const auto j    = json::parse(args, nullptr, false);
            EXPECT_TRUE(j.is_object() && j.contains("a") && j["a"].is_number_integer()) << "seed " << seed << ": " << text;
        });
        // Random weights open the reasoning block on their own now and then (the grammar
        // allows it first); Muse Glimmer's schema answers have no reasoning channel.
        if (GetParam().find("qwen3") != std::string::npos) EXPECT_GT(n_reasoned, 0);
    }
}

TEST(think_budget_for_constraints, half_of_max_tokens_only_where_a_constraint_and_thinking_meet) {
    chat_request r;
    r.json_schema = R"({"type":"object"})";
    think_budget_for_constraints(r, 300);
    EXPECT_EQ(r.think_budget, 150);
    r.think_budget = -1;
    think_budget_for_constraints(r, 100000);
    EXPECT_EQ(r.think_budget, 1024);
    r.think_budget = -1;
    think_budget_for_constraints(r, -1);
    EXPECT_EQ(r.think_budget, 256);
    r.think_budget = 7;  // the client's own budget stays
    think_budget_for_constraints(r, 300);
    EXPECT_EQ(r.think_budget, 7);
    chat_request off;
    off.json_schema     = r.json_schema;
    off.enable_thinking = false;
    think_budget_for_constraints(off, 300);
    EXPECT_EQ(off.think_budget, -1);
    chat_request free_text;  // nothing constrains: no budget
    think_budget_for_constraints(free_text, 300);
    EXPECT_EQ(free_text.think_budget, -1);
    chat_request forced;
    forced.tools       = { { "f", "", R"({"type":"object"})" } };
    forced.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
    think_budget_for_constraints(forced, 64);
    EXPECT_EQ(forced.think_budget, 32);
}

INSTANTIATE_TEST_SUITE_P(tiny, think_budget, ::testing::Values("qwen3-tiny.gguf", "muse-glimmer-tiny.gguf"),
                         model_param_name);
