#pragma once
// One turn of `muse run` with server-side tools: the agent loop on the CLI's session, each
// call, its output, its images and files, and each artifact said as it happens.
#include "agent/image-set.h"
#include "cli/agent-tools.h"
#include "cli/options.h"
#include "engine/media.h"
#include "engine/prefix-cache.h"
#include "engine/session.h"
#include "safety/checker.h"

#include <atomic>

namespace muse::store {
class database;
}  // namespace muse::store

namespace muse::cli {

struct agent_turn_result {
    agent::loop_outcome   outcome;
    std::filesystem::path workdir;
    // Images the calls returned that became media: media[media_base + i] is added_media[i], a
    // PNG saved in the workdir (so that a chat's history can name it by path).
    size_t                   media_base = 0;
    std::vector<std::string> added_media;
};

// The tools and folder a run or a chat keeps across its turns (started once: MCP servers stay up,
// files in /mnt/data persist from turn to turn).
struct agent_setup {
    agent_tools           started;
    std::filesystem::path workdir;
    // The run's images, numbered for the seeing tools: --image files first, then what tools return.
    std::shared_ptr<agent::image_set> images = std::make_shared<agent::image_set>();
    // file_search and memory: the data dir's store as its "local" user; the --files are
    // indexed there for the run and removed when it ends (held by `files_kept`).
    std::shared_ptr<store::database> db;
    int64_t                          user_id = 0;
    std::shared_ptr<void>            files_kept;
    // The safety policy the calls and answers meet (--policy); null: none.
    const safety::checker *          policy = nullptr;
};
// Starts the tools of `o` (agent_tools_start), makes the workdir (--workdir, or a new folder
// under the data dir's workspaces/cli/), and opens the store and indexes --files when
// file_search or memory is on.
agent_setup agent_setup_make(const agent_options & o);

// `request` already holds the conversation and the generation options; `forced_tool` names a
// tool the first step must call. With `cache`, each step starts from the cells of the last.
// Images the calls return join `media` (a model with an image projector looks at them next).
agent_turn_result agent_turn_run(session & s, const model & mdl, chat_request request, std::vector<media> & media,
                                 const sequence_params & sp, const agent_options & o, const agent_setup & setup,
                                 const std::string & forced_tool, const std::atomic<bool> * cancel,
                                 prefix_cache * cache = nullptr);

}  // namespace muse::cli
