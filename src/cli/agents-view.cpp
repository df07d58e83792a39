#include "cli/agents-view.h"

#include "engine/text-trim.h"

namespace muse::cli {

static std::string one_line(const std::string & s, size_t width) {
    std::string out;
    for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (out.size() > width) {
        out = out.substr(out.size() - width);
        while (!out.empty() && ((unsigned char) out[0] & 0xC0) == 0x80) out.erase(0, 1);  // no half characters
    }
    return out;
}

void agent_lanes::on_progress(const reason::agent_progress & p) {
    if (!live_ || p.agent < 0) return;
    if ((size_t) p.agent >= lanes_.size()) lanes_.resize((size_t) p.agent + 1);
    auto & l = lanes_[(size_t) p.agent];
    l.tokens++;
    l.thinking = p.in_reasoning;
    l.done     = p.event->finished;
    l.tail     = one_line(l.tail + p.event->text, 60);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ > std::chrono::milliseconds(100) || l.done) {
        draw();
        last_draw_ = now;
    }
}

void agent_lanes::draw() {
    if (drawn_ > 0) fprintf(stderr, "\033[%dA", drawn_);
    for (size_t i = 0; i < lanes_.size(); ++i) {
        const auto & l = lanes_[i];
        fprintf(stderr, "\r\033[K  agent %2zu %s %5d tok  \033[2m%s\033[0m\n", i, l.done ? "done " : (l.thinking ? "think" : "write"),
                l.tokens, l.tail.c_str());
    }
    drawn_ = (int) lanes_.size();
    fflush(stderr);
}

void agent_lanes::clear() {
    if (!live_ || drawn_ == 0) return;
    fprintf(stderr, "\033[%dA", drawn_);
    for (int i = 0; i < drawn_; ++i) fprintf(stderr, "\r\033[K\n");
    fprintf(stderr, "\033[%dA", drawn_);
    drawn_ = 0;
    fflush(stderr);
}

void agents_table_print(FILE * out, const reason::reason_result & r) {
    fprintf(out, "\n%-3s %-22s %-13s %7s %7s %8s %8s  %-20s\n", "#", "role", "status", "reason", "answer", "conf", "low",
            "extracted answer");
    for (const auto & a : r.agents) {
        const std::string role = reason::text_clip(a.role, 21);
        const std::string ans  = a.extracted.empty() ? "-" : reason::text_clip(a.extracted.value, 19);
        std::string status = reason::agent_status_name(a.status);
        if (!a.kept && a.status != reason::AGENT_STATUS_SKIPPED) status += " (cut)";
        fprintf(out, "%-3d %-22s %-13s %7d %7d %8.3f %8.3f  %-20s\n", a.index, role.c_str(), status.c_str(),
                a.reasoning_tokens, a.answer_tokens, a.mean_confidence, a.lowest_confidence, ans.c_str());
    }
    // The answer as printed above the table (the extracted column holds the voted form).
    const std::string answer = trim(r.content);
    fprintf(out, "final answer: %s\n", answer.empty() ? "-" : answer.c_str());
}

}  // namespace muse::cli
