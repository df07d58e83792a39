#pragma once
// A tool the agent loop runs: the definition the model sees (name, description, JSON schema of
// its arguments) and a call. The loop runs independent calls of one step concurrently, so a
// tool's call() must be safe from several threads at once.
//
// A call never throws for what the model or the tool did wrong (bad arguments, a failing or
// hanging program, huge output): it returns a result with is_error set and a short text the
// model can read. It throws only for the host's own failures (the disk, a missing program).
#include "engine/chat-prompt.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace muse::agent {

class image_set;  // agent/image-set.h

// An image a call produced (a figure shown with plt.show(), a screenshot): the user sees it, a
// vision model may look at it.
struct tool_image {
    std::string name;   // e.g. "figure-1.png"; also saved under the work dir when `saved`
    std::string mime;   // "image/png"
    std::string bytes;  // the encoded image
    int32_t     number = 0;  // its number among the run's images (image_set), once the loop added it
};

// A file a call created or changed in the conversation's work dir (/mnt/data in the sandbox).
struct tool_file {
    std::string path;   // relative to the work dir, '/'-separated
    uint64_t    bytes = 0;
};

struct tool_result {
    std::string             text;        // what the model reads (already capped by the tool)
    bool                    is_error = false;
    std::vector<tool_image> images;
    std::vector<tool_file>  files;
    nlohmann::json          detail = nlohmann::json::object();  // tool-specific facts for events and APIs
};

struct tool_context {
    int64_t               user_id = 0;
    std::string           conversation_id;  // may be empty: a one-off run
    std::filesystem::path work_dir;         // the conversation's files (the sandbox's /mnt/data)
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    const std::atomic<bool> * cancel = nullptr;  // set: stop as soon as possible
    std::shared_ptr<image_set> images;  // the run's images (may be null)
};

class tool {
  public:
    virtual ~tool() = default;
    virtual chat_tool   definition() const = 0;
    virtual tool_result call(const nlohmann::json & arguments, const tool_context & ctx) = 0;
};

using tool_ptr = std::shared_ptr<tool>;

// What a tool returns for a call it cannot do (bad arguments, a refusal): is_error and the text.
inline tool_result tool_error_result(std::string text) {
    tool_result r;
    r.text     = std::move(text);
    r.is_error = true;
    return r;
}

// A string field of a call's arguments; nullopt when missing or not a string.
inline std::optional<std::string> tool_arg_string(const nlohmann::json & args, const char * key) {
    auto it = args.find(key);
    if (it == args.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

}  // namespace muse::agent
