#include "cli/agent-turn.h"

#include "agent/call-guard.h"
#include "agent/text-cap.h"
#include "agent/file-index.h"
#include "agent/tools/crop-zoom.h"
#include "agent/tools/file-search.h"
#include "agent/tools/memory-tools.h"
#include "agent/tools/read-text.h"
#include "agent/tools/spawn-agent.h"
#include "agent/tools/visual-grounding.h"
#include "cli/policy-options.h"
#include "cli/terminal.h"
#include "cli/turn.h"
#include "engine/error.h"
#include "engine/model.h"
#include "store/data-dir.h"
#include "store/database.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <unistd.h>

namespace muse::cli {

namespace {

std::filesystem::path workdir_default() {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    return store::data_dir_default() / "workspaces" / "cli" / (std::string("run-") + stamp + "-" + std::to_string(getpid()));
}

bool tools_have(const agent_options & o, const char * name) {
    return std::find(o.tools.begin(), o.tools.end(), name) != o.tools.end();
}

// The --files, stored and indexed for this run; removed from the store when the run ends.
// The deleter holds the store, so the files go before it closes.
std::shared_ptr<void> files_index(const std::shared_ptr<store::database> & db_ptr, int64_t user_id,
                                  const std::vector<std::string> & paths) {
    store::database & db = *db_ptr;
    auto ids = std::shared_ptr<std::vector<std::string>>(new std::vector<std::string>, [db_ptr, user_id](std::vector<std::string> * v) {
        for (const auto & id : *v) {
            try {
                db_ptr->file_delete(user_id, id);
            } catch (const std::exception &) {
                // A store failure leaves the file in the data dir; the run itself is done.
            }
        }
        delete v;
    });
    for (const auto & path : paths) {
        std::ifstream in(path, std::ios::binary);
        std::string   bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) throw input_error("--files " + path + ": cannot read it");
        if (bytes.empty()) throw input_error("--files " + path + ": the file is empty");
        const auto rec = db.file_put(user_id, std::filesystem::path(path).filename().string(), "user_data", bytes);
        ids->push_back(rec.id);
        const auto r = agent::file_index(db, user_id, rec, agent::file_text_extract(bytes, rec.filename), nullptr);
        fprintf(stderr, "file_search: %s (%s) %zu chunks%s%s\n", path.c_str(), r.extracted.kind.c_str(), r.chunks,
                r.extracted.note.empty() ? "" : ": ", r.extracted.note.c_str());
    }
    return ids;
}

}  // namespace

agent_setup agent_setup_make(const agent_options & o) {
    agent_setup setup;
    setup.started = agent_tools_start(o);
    setup.workdir = o.workdir.empty() ? workdir_default() : std::filesystem::path(o.workdir);
    std::error_code ec;
    std::filesystem::create_directories(setup.workdir, ec);
    if (ec) throw input_error("--workdir " + setup.workdir.string() + ": cannot create it (" + ec.message() + ")");
    if (tools_have(o, "file_search") || tools_have(o, "memory")) {
        setup.db      = std::make_shared<store::database>(store::data_dir_default());
        setup.user_id = setup.db->user_get_or_create("local", false).id;
        setup.files_kept = files_index(setup.db, setup.user_id, o.files);
    }
    return setup;
}

agent_turn_result agent_turn_run(session & s, const model & mdl, chat_request request, std::vector<media> & media,
                                 const sequence_params & sp, const agent_options & o, const agent_setup & setup,
                                 const std::string & forced_tool, const std::atomic<bool> * cancel, prefix_cache * cache) {
    agent_turn_result res;
    res.workdir = setup.workdir;
    const agent_tools & started = setup.started;
    std::mutex  session_mu;  // sub-agents take turns on the one session
    agent::loop_params p;
    for (const auto & name : o.tools) {
        if (name == "python" && started.python) p.tools.push_back(started.python);
        if (name == "artifacts") {
            auto store = artifact_files(res.workdir / "artifacts");
            p.tools.push_back(agent::create_artifact_tool(store));
            p.tools.push_back(agent::update_artifact_tool(store));
        }
        if (name == "spawn_agent") {
            p.tools.push_back(agent::spawn_agent_tool([&](const reason::subtask & task, const agent::tool_context &) {
                std::lock_guard<std::mutex> lk(session_mu);
                chat_prompt     prompt = chat_format(mdl, agent::subagent_request(task), mdl.media_marker());
                sequence_params sub    = sp;
                if (sub.max_tokens < 0 || sub.max_tokens > o.subagent_max_tokens) sub.max_tokens = o.subagent_max_tokens;
                turn_result r = turn_run(s, &prompt, "", {}, sub, nullptr, cancel);
                printf("\n[sub-agent] %s: %zu characters\n", task.title.c_str(), r.parsed.content.size());
                return r.parsed.content.empty() ? r.parsed.reasoning : r.parsed.content;
            }));
        }
        if (name == "mcp") p.tools.insert(p.tools.end(), started.mcp.begin(), started.mcp.end());
        if (name == "web") p.tools.insert(p.tools.end(), started.web.begin(), started.web.end());
        if (name == "vision") {
            const agent::image_count_fn count = [images = setup.images] { return images->size(); };
            agent::read_text_options ro;
            ro.image_count = count;
            p.tools.push_back(agent::read_text_tool(ro));
            agent::crop_zoom_options co;
            co.image_count = count;
            p.tools.push_back(agent::crop_zoom_tool(co));
            if (mdl.projector()) {
                agent::visual_grounding_options vo;
                vo.image_count = count;
                vo.family = mdl.info().arch.rfind("qwen", 0) == 0 ? "qwen" : "generic";
                p.tools.push_back(agent::visual_grounding_tool(
                    [&](const agent::image_entry & img, const std::string & prompt, const nlohmann::json & schema,
                        const agent::tool_context &) {
                        std::lock_guard<std::mutex> lk(session_mu);
                        std::vector<muse::media> one;
                        one.push_back(muse::media::from_bytes(mdl.projector(), std::vector<uint8_t>(img.bytes->begin(), img.bytes->end()),
                                                              "image " + std::to_string(img.number)));
                        const chat_request r = agent::grounding_request(prompt, schema);
                        chat_prompt     prompt_fmt = chat_format(mdl, r, mdl.media_marker());
                        sequence_params vsp        = sp;
                        vsp.max_tokens             = 1024;
                        vsp.sampling.temperature   = 0;
                        return turn_run(s, &prompt_fmt, "", one, vsp, nullptr, cancel).parsed.content;
                    },
                    vo));
            }
        }
        if (name == "file_search" && setup.db) p.tools.push_back(agent::file_search_tool(*setup.db));
        if (name == "memory" && setup.db) {
            p.tools.push_back(agent::remember_tool(*setup.db));
            p.tools.push_back(agent::forget_tool(*setup.db));
        }
    }
    p.limits.max_steps        = o.max_steps;
    p.limits.tool_secs        = o.tool_timeout;
    p.limits.max_argument_chars = o.max_argument_chars;
    p.limits.max_tokens       = 0;
    p.limits.wall_secs        = 0;
    p.context.work_dir        = res.workdir;
    p.context.conversation_id = res.workdir.filename().string();
    p.context.user_id         = setup.user_id;
    p.context.images          = setup.images;
    p.cancel                  = cancel;
    p.forced_tool             = forced_tool;
    if (setup.policy) {
        agent::call_guard_install(p, *setup.policy, [](const agent::call_verdict & v) {
            policy_audit(v.verdict, v.point, "cli.tool:" + v.tool, v.content);
            if (v.verdict.blocked()) fprintf(stderr, "note: the safety policy refused a call of %s (%s)\n", v.tool.c_str(), v.verdict.category.c_str());
        });
    }
    res.media_base = media.size();
    if (mdl.projector()) {
        p.image_to_media = [&media, &mdl, &res](const agent::tool_image & img) -> std::optional<size_t> {
            media.push_back(muse::media::from_bytes(mdl.projector(), std::vector<uint8_t>(img.bytes.begin(), img.bytes.end()),
                                                    "the image " + img.name + " a tool returned"));
            const auto path = res.workdir / ("seen-" + std::to_string(res.added_media.size()) + ".png");
            std::ofstream(path, std::ios::binary) << img.bytes;
            res.added_media.push_back(path.string());
            return media.size() - 1;
        };
    }

    agent::generate_fn generate = [&](const chat_request & r, const agent::step_stream &) {
        std::lock_guard<std::mutex> lk(session_mu);
        chat_prompt    prompt = chat_format(mdl, r, mdl.media_marker());
        answer_printer out;
        turn_result    t = turn_run(s, &prompt, "", media, sp, &out, cancel, cache, setup.policy);
        out.end();
        if (t.stopped.blocked()) {
            // The step's answer is replaced by the policy's reply, and the loop ends with it.
            policy_audit(t.stopped, safety::CHECK_POINT_OUTPUT, "cli.run", t.raw);
            policy_stop_print(t.stopped, true);
            t.parsed = chat_parsed{ t.stopped.reply(), "", {} };
        } else if (!t.stopped.note_suffix().empty() && t.parsed.tool_calls.empty()) {
            printf("\n\n%s\n", t.stopped.message.c_str());
        }
        if (t.stats.reason == FINISH_REASON_ERROR) throw runtime_error(t.stats.error + "; check --grammar or --json-schema");
        agent::step_output so;
        so.parsed            = t.parsed;
        so.finish            = t.stats.reason;
        so.prompt_tokens     = t.stats.n_prompt;
        so.completion_tokens = t.stats.n_generated;
        so.reasoning_tokens  = t.reasoning_tokens;
        return so;
    };
    agent::loop_events ev;
    ev.call_started = [](int, const chat_tool_call & c) {
        printf("\n[tool call] %s(%s)\n", c.name.c_str(), agent::text_cap(c.arguments, 2000).c_str());
        fflush(stdout);
    };
    ev.call_finished = [&res](const agent::call_record & r) {
        const bool ok = r.outcome == agent::CALL_OUTCOME_OK;
        printf("[tool %s] %s (%.2f s)\n", ok ? "output" : "error", r.call.name.c_str(), r.secs);
        if (!r.result.text.empty()) printf("%s\n", agent::text_cap(r.result.text, 4000).c_str());
        for (size_t i = 0; i < r.result.images.size(); ++i) {
            const auto & img  = r.result.images[i];
            const auto   path = res.workdir / ("image-" + std::to_string(r.step) + "-" + std::to_string(i) + ".png");
            std::ofstream(path, std::ios::binary) << img.bytes;
            printf("[image] %s\n", path.c_str());
        }
        for (const auto & f : r.result.files) printf("[file] %s (%llu bytes)\n", (res.workdir / f.path).c_str(), (unsigned long long) f.bytes);
        fflush(stdout);
    };
    res.outcome = agent::loop_run(std::move(request), p, generate, ev);
    return res;
}

}  // namespace muse::cli
