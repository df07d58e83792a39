#include "engine/text-stream.h"

#include <algorithm>

namespace muse {

size_t utf8_incomplete_tail(const std::string & s) {
    // Look back at most 3 bytes for the lead byte of the last sequence.
    for (size_t back = 1; back <= std::min<size_t>(4, s.size()); ++back) {
        const unsigned char c = (unsigned char) s[s.size() - back];
        if ((c & 0xC0) == 0x80) {
            continue;  // continuation byte
        }
        size_t need = 1;
        if ((c & 0xE0) == 0xC0) need = 2;
        else if ((c & 0xF0) == 0xE0) need = 3;
        else if ((c & 0xF8) == 0xF0) need = 4;
        return need > back ? back : 0;
    }
    return 0;
}

void text_stream::set_stops(std::vector<std::string> stops) {
    stops_.clear();
    for (auto & s : stops) {
        if (!s.empty()) {
            stops_.push_back(std::move(s));
        }
    }
}

bool text_stream::push(const std::string & piece, std::string & out) {
    held_ += piece;
    size_t cut = std::string::npos;
    for (const auto & stop : stops_) {
        cut = std::min(cut, held_.find(stop));
    }
    if (cut != std::string::npos) {
        out += held_.substr(0, cut);
        held_.clear();
        return true;
    }
    // Hold back the longest tail that is the beginning of some stop string.
    size_t keep = 0;
    for (const auto & stop : stops_) {
        for (size_t len = std::min(stop.size() - 1, held_.size()); len > keep; --len) {
            if (held_.compare(held_.size() - len, len, stop, 0, len) == 0) {
                keep = len;
                break;
            }
        }
    }
    keep = std::max(keep, utf8_incomplete_tail(held_));
    out += held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return false;
}

std::string text_stream::flush() {
    std::string out;
    out.swap(held_);
    return out;
}

}  // namespace muse
