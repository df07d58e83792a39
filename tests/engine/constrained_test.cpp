// Constrained output: JSON-schema and GBNF answers are always valid, even with random
// weights; the thinking budget is never exceeded.
#include "engine/error.h"
#include "test-util.h"
#include "llama.h"

#include <nlohmann/json.hpp>
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

INSTANTIATE_TEST_SUITE_P(tiny, constrained, ::testing::ValuesIn(tiny_models()), model_param_name);

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

INSTANTIATE_TEST_SUITE_P(tiny, think_budget, ::testing::Values("qwen3-tiny.gguf", "muse-glimmer-tiny.gguf"),
                         model_param_name);
