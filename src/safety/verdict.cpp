#include "safety/verdict.h"

namespace muse::safety {

static const char * const check_point_names[] = { "input",       "output",   "tool_arguments",
                                                  "tool_output", "artifact", "upload" };

const char * check_point_name(check_point p) {
    const int i = (int)p;
    return i >= 0 && i <= (int)CHECK_POINT_UPLOAD ? check_point_names[i] : "?";
}

bool check_point_parse(const std::string & name, check_point & out) {
    for (int i = 0; i <= (int)CHECK_POINT_UPLOAD; ++i) {
        if (name == check_point_names[i]) {
            out = (check_point)i;
            return true;
        }
    }
    return false;
}

}  // namespace muse::safety
