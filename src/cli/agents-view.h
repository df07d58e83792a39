#pragma once
// How `muse run` shows several agents: live lanes on a terminal while they run, then a table.
#include "reason/modes.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace muse::cli {

class agent_lanes {
  public:
    explicit agent_lanes(bool live) : live_(live) {}
    void on_progress(const reason::agent_progress & p);
    void clear();  // removes the lanes from the screen

  private:
    struct lane_state {
        int         tokens = 0;
        bool        thinking = false;
        bool        done = false;
        std::string tail;
    };
    void draw();

    bool                                  live_;
    std::vector<lane_state>               lanes_;
    int                                   drawn_ = 0;
    std::chrono::steady_clock::time_point last_draw_{};
};

// The per-agent table: role, status, reasoning/answer tokens, confidence, answer, early stop.
void agents_table_print(FILE * out, const reason::reason_result & r);

}  // namespace muse::cli
