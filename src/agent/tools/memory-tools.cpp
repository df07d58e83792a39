#include "agent/tools/memory-tools.h"

#include "agent/text-cap.h"
#include "engine/text-trim.h"

#include <algorithm>
#include <stdexcept>

namespace muse::agent {

using json = nlohmann::json;

namespace {



const char * k_memory_off =
    "memory is turned off for this user: nothing is remembered or forgotten. Tell the user they can turn it on in "
    "their settings if they want this kept.";

class remember final : public tool {
  public:
    remember(store::database & db, embed_fn embed, memory_tool_limits lim) : db_(db), embed_(std::move(embed)), lim_(lim) {}

    chat_tool definition() const override {
        return { "remember",
                 "Keep one short fact about the user for future conversations (a preference, a standing detail they "
                 "asked you to remember). Only what the user would want kept; never secrets such as passwords.",
                 R"({"type":"object","properties":{)"
                 R"("text":{"type":"string","description":"The fact, as one short sentence","maxLength":)" +
                     // maxLength counts characters, the limit bytes: four bytes each at most.
                     std::to_string(std::max<size_t>(1, lim_.max_bytes / 4)) + R"(}},"required":["text"]})" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto text = tool_arg_string(args, "text");
        if (!text || trim(*text).empty()) return tool_error_result("remember needs a non-empty string 'text': the fact to keep");
        const std::string fact = trim(*text);
        if (fact.size() > lim_.max_bytes) {
            return tool_error_result("remember: the text is " + std::to_string(fact.size()) + " bytes; a memory holds at most " +
                                std::to_string(lim_.max_bytes) + ": keep one short fact");
        }
        if (!db_.memory_enabled(ctx.user_id)) return tool_error_result(std::string("remember: ") + k_memory_off);
        std::vector<float> vector;
        if (embed_) {
            try {
                auto vs = embed_({ fact });
                if (vs.size() == 1) vector = std::move(vs[0]);
            } catch (const std::exception &) {
                // Stored without a vector: it is still found by its words.
            }
        }
        store::memory_item item;
        try {
            item = db_.memory_add(ctx.user_id, fact, vector);
        } catch (const std::invalid_argument &) {
            item = db_.memory_add(ctx.user_id, fact);  // a bad vector from the model: keep the words
        }
        tool_result r;
        r.text   = "remembered " + item.id + ": " + item.text;
        r.detail = { { "memory", { { "id", item.id }, { "text", item.text }, { "created_at", item.created_at } } },
                     { "vector", !vector.empty() } };
        return r;
    }

  private:
    store::database &  db_;
    embed_fn           embed_;
    memory_tool_limits lim_;
};

class forget final : public tool {
  public:
    explicit forget(store::database & db) : db_(db) {}

    chat_tool definition() const override {
        return { "forget",
                 "Delete one of the user's remembered facts by its id (mem_...), when the user asks you to forget it "
                 "or it is no longer true.",
                 R"({"type":"object","properties":{)"
                 R"("id":{"type":"string","description":"The memory item's id, mem_ and 24 hex digits"}},)"
                 R"("required":["id"]})" };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto id = tool_arg_string(args, "id");
        if (!id || trim(*id).empty()) return tool_error_result("forget needs the memory item's 'id' (mem_...)");
        if (!db_.memory_enabled(ctx.user_id)) return tool_error_result(std::string("forget: ") + k_memory_off);
        const std::string key = trim(*id);
        if (!db_.memory_delete(ctx.user_id, key)) {
            return tool_error_result("forget: the user has no memory item '" + key.substr(0, utf8_cut(key, 64)) +
                                "'; use an id from the user's memory as shown to you");
        }
        tool_result r;
        r.text   = "forgot " + key;
        r.detail = { { "forgotten", key } };
        return r;
    }

  private:
    store::database & db_;
};

}  // namespace

tool_ptr remember_tool(store::database & db, embed_fn embed, memory_tool_limits limits) {
    return std::make_shared<remember>(db, std::move(embed), limits);
}

tool_ptr forget_tool(store::database & db) {
    return std::make_shared<forget>(db);
}

}  // namespace muse::agent
