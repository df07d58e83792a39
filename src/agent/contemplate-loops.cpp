#include "agent/contemplate-loops.h"

#include <exception>
#include <thread>

namespace muse::agent {

contemplate_outcome contemplate_loops(const chat_request & request, const loop_params & params, int agents,
                                      const std::function<generate_fn(int agent)> & generate_for,
                                      const std::function<loop_events(int agent)> & events_for,
                                      const reason::answer_options & answer) {
    contemplate_outcome            out;
    std::vector<std::exception_ptr> failures((size_t) agents);
    out.agents.resize((size_t) agents);
    {
        std::vector<std::thread> threads;
        for (int i = 0; i < agents; ++i) {
            threads.emplace_back([&, i] {
                try {
                    out.agents[(size_t) i] = loop_run(request, params, generate_for(i), events_for ? events_for(i) : loop_events{});
                } catch (...) {
                    failures[(size_t) i] = std::current_exception();
                }
            });
        }
        for (auto & t : threads) t.join();
    }
    for (auto & f : failures) {
        if (f) std::rethrow_exception(f);  // a refused prompt or a decode failure is the request's
    }
    for (const auto & a : out.agents) out.answers.push_back(reason::answer_extract(a.last.content, answer));
    const reason::vote_result v = reason::vote(out.answers);
    out.agreement = v.agreement;
    out.winner    = v.supporters.empty() ? 0 : v.supporters.front();
    return out;
}

}  // namespace muse::agent
