#pragma once
// The `python` tool: runs the model's code in a fresh python3 in a bubblewrap sandbox per call
// (agent/sandbox/bwrap-run.h), with the conversation's work dir as /mnt/data. Figures shown
// with plt.show() (or left open at the end) come back as PNG images; files the code created or
// changed in /mnt/data are listed.
#include <filesystem>
#include <string>

#include "agent/sandbox/bwrap-run.h"
#include "agent/tool.h"

namespace muse::agent {

struct python_tool_options {
    std::string           python = "/usr/bin/python3";  // inside the sandbox (the host's /usr)
    sandbox_limits        limits;
    size_t                max_text_bytes  = 16 << 10;  // of stdout + stderr in tool_result::text
    int                   max_images      = 8;
    uint64_t              max_image_bytes = 8ull << 20;
    size_t                max_files       = 100;  // listed in tool_result::files
    std::filesystem::path scratch_dir;            // where per-call private dirs go; empty: the temp dir
};

class python_tool : public tool {
  public:
    explicit python_tool(python_tool_options options = {});

    chat_tool definition() const override;
    // Without ctx.work_dir the call gets a scratch work dir that is removed after it.
    tool_result call(const nlohmann::json & arguments, const tool_context & ctx) override;

  private:
    python_tool_options options_;
};

}  // namespace muse::agent
