// What a stored answer keeps of the agent's calls (conversation_tool_calls_stored): images
// without their data, the output cut at k_stored_output_max at a character boundary with a
// marker, every other field as the reply had it.
#include <gtest/gtest.h>

#include "server/conversation-branch.h"

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
