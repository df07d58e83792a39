// The policy file: the default round-trips through its JSON, and bad files name the file, the
// field and the fix.
#include "safety/policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace muse::safety;

namespace {

// The policy_error `text` gives, or "" when it parses.
std::string parse_error(const std::string & text, const std::string & origin = "policy.json") {
    try {
        policy_parse(text, origin);
    } catch (const policy_error & e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(policy, the_default_has_the_llama_guard_categories) {
    const policy p = policy_default();
    ASSERT_EQ(p.categories.size(), 14u);
    for (int i = 1; i <= 14; ++i)
        EXPECT_NE(p.category_find("S" + std::to_string(i)), nullptr) << i;
    EXPECT_EQ(p.category_find("S15"), nullptr);
    for (const char * id : { "S1", "S2", "S3", "S4", "S9", "S11", "S14" }) {
        EXPECT_EQ(p.category_find(id)->action, POLICY_ACTION_BLOCK) << id;
    }
    EXPECT_EQ(p.category_find("S6")->action, POLICY_ACTION_WARN);
    EXPECT_EQ(p.category_find("S9")->name, "Indiscriminate Weapons");
    EXPECT_FALSE(p.refusal.empty());
    EXPECT_NE(p.health.crisis_text.find("988"), std::string::npos);
    EXPECT_NE(p.health.note.find("not a clinician"), std::string::npos);
}

TEST(policy, the_default_round_trips_through_its_json) {
    const policy      p    = policy_default();
    const std::string text = policy_json(p);
    EXPECT_EQ(policy_parse(text, "default"), p);
    EXPECT_EQ(policy_json(policy_parse(text, "default")), text);
    EXPECT_NE(text.find("\"action\": \"block\""), std::string::npos);
}

TEST(policy, a_changed_policy_round_trips_too) {
    policy p               = policy_default();
    p.categories[8].action = POLICY_ACTION_ALLOW;
    p.categories.push_back({ "S15", "Financial Advice", POLICY_ACTION_WARN, "Ask an adviser." });
    p.health.enabled     = false;
    p.stream_check_chars = 64;
    p.check_output       = false;
    p.guard_grammar      = "root ::= \"safe\"";
    p.refusal            = "No.";
    EXPECT_EQ(policy_parse(policy_json(p), "x"), p);
}

TEST(policy, a_file_may_give_only_what_it_changes) {
    const policy p = policy_parse(R"({"categories": [{"id": "S9", "action": "allow"},
                                                      {"id": "S15", "name": "Gambling", "action": "warn"}]})",
                                  "small.json");
    EXPECT_EQ(p.category_find("S9")->action, POLICY_ACTION_ALLOW);
    EXPECT_EQ(p.category_find("S9")->name, "Indiscriminate Weapons");
    EXPECT_EQ(p.category_find("S15")->name, "Gambling");
    EXPECT_EQ(p.category_find("S1")->action, POLICY_ACTION_BLOCK);
    EXPECT_EQ(p.refusal, policy_default().refusal);
}

TEST(policy, bad_files_name_the_file_the_field_and_the_fix) {
    std::string e = parse_error("{ not json", "/etc/muse/policy.json");
    EXPECT_NE(e.find("/etc/muse/policy.json"), std::string::npos) << e;
    EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
    EXPECT_NE(e.find("muse policy show"), std::string::npos) << e;

    e = parse_error(R"({"categories": [{"id": "S9", "action": "blok"}]})");
    EXPECT_NE(e.find("policy.json: categories[0].action"), std::string::npos) << e;
    EXPECT_NE(e.find("\"blok\""), std::string::npos) << e;
    EXPECT_NE(e.find("\"block\", \"warn\" or \"allow\""), std::string::npos) << e;

    e = parse_error(R"({"refusal": "no", "colour": "red"})");
    EXPECT_NE(e.find("policy.json: colour: unknown field"), std::string::npos) << e;
    EXPECT_NE(e.find("categories"), std::string::npos) << e;  // the fix lists the fields

    e = parse_error(R"({"health": {"enabled": true, "notes": "x"}})");
    EXPECT_NE(e.find("health.notes: unknown field"), std::string::npos) << e;

    for (const char * id : { "S0", "s9", "S09", "X1", "S", "S1a", "S1000" }) {
        e = parse_error(std::string(R"({"categories": [{"id": ")") + id + R"(", "action": "block"}]})");
        EXPECT_NE(e.find("categories[0].id"), std::string::npos) << id << ": " << e;
        EXPECT_NE(e.find("not a category id"), std::string::npos) << id << ": " << e;
        EXPECT_NE(e.find("e.g. \"S9\""), std::string::npos) << id << ": " << e;
    }

    e = parse_error(R"({"categories": [{"id": "S9", "action": "block"}, {"id": "S9", "action": "allow"}]})");
    EXPECT_NE(e.find("categories[1].id"), std::string::npos) << e;
    EXPECT_NE(e.find("listed twice"), std::string::npos) << e;
    EXPECT_NE(e.find("one entry per category id"), std::string::npos) << e;

    e = parse_error(R"({"categories": [{"id": "S15", "action": "block"}]})");
    EXPECT_NE(e.find("categories[0].name: is missing"), std::string::npos) << e;

    e = parse_error(R"({"stream_check_chars": -1})");
    EXPECT_NE(e.find("stream_check_chars"), std::string::npos) << e;
    e = parse_error(R"({"check_input": "yes"})");
    EXPECT_NE(e.find("check_input: is string, not true or false"), std::string::npos) << e;
    e = parse_error(R"([1, 2])");
    EXPECT_NE(e.find("not a JSON object"), std::string::npos) << e;
    e = parse_error(R"({"categories": {"S9": "block"}})");
    EXPECT_NE(e.find("categories: is object, not an array"), std::string::npos) << e;
    e = parse_error(R"({"health": {"crisis_text": ""}})");
    EXPECT_NE(e.find("health.crisis_text: is empty"), std::string::npos) << e;
}

TEST(policy, load_reads_a_file_and_names_a_missing_one) {
    const auto path = std::filesystem::temp_directory_path() / ("muse-policy-" + std::to_string(getpid()) + ".json");
    {
        std::ofstream out(path);
        out << R"({"categories": [{"id": "S6", "action": "block"}]})";
    }
    EXPECT_EQ(policy_load(path.string()).category_find("S6")->action, POLICY_ACTION_BLOCK);
    {
        std::ofstream out(path);
        out << R"({"categories": [{"id": "S6", "action": 3}]})";
    }
    try {
        policy_load(path.string());
        ADD_FAILURE() << "a bad action loaded";
    } catch (const policy_error & e) {
        EXPECT_NE(std::string(e.what()).find(path.string() + ": categories[0].action"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
    try {
        policy_load(path.string());
        ADD_FAILURE() << "a missing file loaded";
    } catch (const policy_error & e) {
        EXPECT_NE(std::string(e.what()).find(path.string() + ": cannot read"), std::string::npos) << e.what();
    }
}
