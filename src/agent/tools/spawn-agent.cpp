#include "agent/tools/spawn-agent.h"

#include "agent/text-cap.h"

#include <future>

namespace muse::agent {

using json = nlohmann::json;

chat_request subagent_request(const reason::subtask & task) {
    chat_request r;
    chat_message sys;
    sys.role    = "system";
    sys.content = "You are a sub-agent. Another assistant gave you one part of a larger task. Solve only that part, "
                  "concisely, and answer with the result.";
    chat_message user;
    user.role    = "user";
    user.content = task.title + ": " + task.instruction;
    r.messages   = { sys, user };
    return r;
}

namespace {

class spawn_agent final : public tool {
  public:
    spawn_agent(subagent_fn run, spawn_agent_limits lim) : run_(std::move(run)), lim_(lim) {}

    chat_tool definition() const override {
        chat_tool t = reason::spawn_agent_tool();
        json      p = json::parse(t.parameters);
        p["properties"]["tasks"]["maxItems"] = lim_.max_tasks;
        t.parameters  = p.dump();
        t.description = "Run sub-agents at the same time, one per independent task; each sees only its task "
                        "(give it everything it needs in the instruction) and returns its answer.";
        return t;
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        tool_result res;
        auto        it = args.find("tasks");
        if (it == args.end() || !it->is_array() || it->empty()) {
            res.text     = "spawn_agent needs 'tasks': a non-empty array of {title, instruction}";
            res.is_error = true;
            return res;
        }
        std::vector<reason::subtask> tasks;
        for (const auto & t : *it) {
            if (!t.is_object() || !t.contains("instruction") || !t["instruction"].is_string()) {
                res.text     = "each task needs a string 'instruction' (and a 'title')";
                res.is_error = true;
                return res;
            }
            std::string title = t.contains("title") && t["title"].is_string() ? t["title"].get<std::string>() : "";
            tasks.push_back({ title.empty() ? "task " + std::to_string(tasks.size() + 1) : title,
                              t["instruction"].get<std::string>() });
        }
        if ((int) tasks.size() > lim_.max_tasks) {
            res.text     = std::to_string(tasks.size()) + " tasks; spawn_agent runs at most " + std::to_string(lim_.max_tasks);
            res.is_error = true;
            return res;
        }
        std::vector<std::future<std::string>> answers;
        for (const auto & t : tasks) {
            answers.push_back(std::async(std::launch::async, [this, t, &ctx] { return run_(t, ctx); }));
        }
        json reports = json::array();
        int  failed  = 0;
        for (size_t i = 0; i < tasks.size(); ++i) {
            std::string answer;
            bool        ok = true;
            try {
                answer = answers[i].get();
            } catch (const std::exception & e) {
                answer = std::string("failed: ") + e.what();
                ok     = false;
                ++failed;
            }
            res.text += "## " + tasks[i].title + "\n" + text_cap(answer, lim_.answer_chars) + "\n\n";
            reports.push_back({ { "title", tasks[i].title }, { "ok", ok }, { "answer_chars", answer.size() } });
        }
        res.is_error = failed == (int) tasks.size();
        res.detail   = { { "subagents", reports } };
        return res;
    }

  private:
    subagent_fn        run_;
    spawn_agent_limits lim_;
};

}  // namespace

tool_ptr spawn_agent_tool(subagent_fn run, spawn_agent_limits limits) {
    return std::make_shared<spawn_agent>(std::move(run), limits);
}

}  // namespace muse::agent
