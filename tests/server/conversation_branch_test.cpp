// What a stored answer keeps of the agent's calls (conversation_tool_calls_stored): images
// without their data, the output cut at k_stored_output_max at a character boundary with a
// marker, every other field as the reply had it; and what the store keeps of the message
// (conversation_message_text) on a real database.
#include <gtest/gtest.h>

#include "agent/text-cap.h"
#include "agent/tools/artifacts.h"
#include "server/agent-run.h"
#include "server/conversation-branch.h"
#include "store/database.h"
#include "store/store_test_util.h"

#include <memory>

using nlohmann::json;
using muse::server::conversation_tool_calls_stored;
using muse::server::k_stored_output_max;

TEST(conversation_tool_calls_stored, keeps_the_fields_and_drops_image_data) {
    const json calls = json::parse(R"([{"id": "call_1", "name": "create_artifact", "arguments": "{}", "outcome": "ok",
        "output": "made it", "images": [{"name": "plot.png", "mime_type": "image/png", "data": "iVBORw0KGgo="}],
        "files": [{"path": "a.txt", "bytes": 3}], "detail": {"artifact": {"id": "art_1", "version": 2}}, "duration_ms": 17}])");
    const json stored = conversation_tool_calls_stored(calls);
    ASSERT_EQ(stored.size(), 1u);
    json want = calls[0];
    want["images"] = json::array({ { { "name", "plot.png" }, { "mime_type", "image/png" } } });
    EXPECT_EQ(stored[0], want);
}

TEST(conversation_tool_calls_stored, cuts_a_long_output_at_a_character_with_a_marker) {
    // 'a' then three-byte characters: the limit falls inside one, which is left out whole.
    std::string output = "a";
    while (output.size() < k_stored_output_max + 3000) output += "\xe6\x89\x8b";
    const json stored = conversation_tool_calls_stored(json::array({ { { "id", "c" }, { "name", "python" }, { "output", output } } }));
    const std::string got = stored[0]["output"].get<std::string>();
    const size_t      cut = got.find("\n[output cut: ");
    ASSERT_NE(cut, std::string::npos) << got.substr(got.size() - 80);
    EXPECT_LE(cut, k_stored_output_max);
    EXPECT_GT(cut, k_stored_output_max - 3);
    EXPECT_EQ(got.substr(0, cut), output.substr(0, cut));
    EXPECT_EQ((cut - 1) % 3, 0u) << "cut inside a character";
    EXPECT_NE(got.find(std::to_string(output.size()) + " bytes not stored]"), std::string::npos) << got.substr(cut);
    EXPECT_EQ(stored[0]["images"], json::array());
}

TEST(conversation_tool_calls_stored, a_short_output_and_no_calls_stay_as_they_are) {
    EXPECT_EQ(conversation_tool_calls_stored(json::array()), json::array());
    EXPECT_EQ(conversation_tool_calls_stored(json()), json::array());
    const std::string exact(k_stored_output_max, 'x');
    const json stored = conversation_tool_calls_stored(json::array({ { { "id", "c" }, { "name", "n" }, { "output", exact } } }));
    EXPECT_EQ(stored[0]["output"], exact);
}

// ---- what the store keeps of an agent's turn ---------------------------------------------------
// A reply whose calls hold bytes that are not UTF-8 (a tool's output, a cut made by bytes) was
// once lost: the message's JSON could not be written, the failure went unseen, and the web app's
// turn vanished. The store now keeps such a message, each bad byte as U+FFFD.

namespace {

// A data directory with a real store and one user's conversation, removed afterwards.
struct stored_conversation {
    muse::test::temp_dir                    root;  // declared first: removed after the store closes
    std::unique_ptr<muse::store::database>  db;
    muse::store::user                       alice;
    muse::store::conversation               conv;

    stored_conversation() {
        db    = std::make_unique<muse::store::database>(root.path());
        alice = db->user_get_or_create("alice", false);
        conv  = db->conversation_create(alice.id, "Make a tiny game.", "{}");
    }
    // Appends `msg` as the routes do and reads it back from the database.
    json append_and_read(const json & msg) {
        const auto m = db->message_append_under(alice.id, conv.id, "", msg.value("role", "assistant"),
                                                muse::server::conversation_message_text(msg));
        EXPECT_TRUE(m.has_value());
        const auto all = db->message_list(alice.id, conv.id);
        EXPECT_EQ(all.size(), 1u);
        return all.empty() ? json() : json::parse(all.back().content);
    }
};

bool utf8_valid(const std::string & s) {
    try {
        (void) json(s).dump();  // nlohmann's strict dump throws on any byte that is not UTF-8
        return true;
    } catch (const json::type_error &) {
        return false;
    }
}

}  // namespace

TEST(conversation_message_text, a_reply_with_bytes_that_are_not_utf8_is_kept_with_replacements) {
    stored_conversation s;
    const std::string output = std::string("printed ") + "\xff\xfe" + " and a cut \xd0";
    const json msg = { { "role", "assistant" }, { "content", "done" },
                       { "muse", { { "tool_calls", json::array({ { { "name", "python" }, { "output", output } } }) } } } };
    ASSERT_THROW((void) msg.dump(), json::type_error);  // what the store once wrote, and lost
    const json back = s.append_and_read(msg);
    EXPECT_EQ(back["content"], "done");
    EXPECT_EQ(back["muse"]["tool_calls"][0]["output"], "printed \xef\xbf\xbd\xef\xbf\xbd and a cut \xef\xbf\xbd");
}

TEST(conversation_message_text, a_long_title_in_a_script_of_two_byte_letters_is_cut_between_letters) {
    // The model's title may hold up to 120 characters (the schema's maxLength); in Cyrillic
    // that is 240 bytes, and a cut at byte 120 fell inside one: 121 letters, the tool's own cut.
    stored_conversation s;
    std::string title;
    for (int i = 0; i < 121; i++) title += "\xd0\x96";  // Ж
    auto tool = muse::agent::create_artifact_tool(muse::server::artifact_store_in(*s.db));
    muse::agent::tool_context ctx;
    ctx.user_id         = s.alice.id;
    ctx.conversation_id = s.conv.id;
    muse::agent::call_record r;
    r.call.id        = "call_0_0";
    r.call.name      = "create_artifact";
    r.call.arguments = json{ { "title", title }, { "type", "markdown" }, { "content", "# a game" } }.dump();
    r.result         = tool->call(json::parse(r.call.arguments), ctx);
    ASSERT_FALSE(r.result.is_error) << r.result.text;
    const std::string kept = r.result.detail["artifact"]["title"].get<std::string>();
    EXPECT_EQ(kept, title.substr(0, 240));  // 120 letters, each whole
    EXPECT_TRUE(utf8_valid(kept));
    EXPECT_TRUE(utf8_valid(r.result.text)) << r.result.text;
    const auto stored_art = s.db->artifact_get(s.alice.id, r.result.detail["artifact"]["id"].get<std::string>());
    ASSERT_TRUE(stored_art.has_value());
    EXPECT_EQ(stored_art->title, kept);
    // The reply as the agent route stores it: the call under muse.tool_calls, read back whole.
    const json msg = { { "role", "assistant" }, { "content", "" },
                       { "muse", { { "tool_calls", conversation_tool_calls_stored(json::array({ muse::server::agent_call_json(r) })) } } } };
    const json back = s.append_and_read(msg);
    EXPECT_EQ(back["muse"]["tool_calls"][0]["detail"]["artifact"]["title"], kept);
}

TEST(conversation_message_text, utf8_first_chars_counts_characters_not_bytes) {
    using muse::agent::utf8_first_chars;
    EXPECT_EQ(utf8_first_chars("abc", 2), "ab");
    EXPECT_EQ(utf8_first_chars("abc", 5), "abc");
    EXPECT_EQ(utf8_first_chars("\xe6\x89\x8b\xe6\x89\x8bx", 2), "\xe6\x89\x8b\xe6\x89\x8b");
    EXPECT_EQ(utf8_first_chars("a\xf0\x9f\x98\x80" "b", 2), "a\xf0\x9f\x98\x80");
    EXPECT_EQ(utf8_first_chars("", 3), "");
    EXPECT_EQ(utf8_first_chars("xyz", 0), "");
}
