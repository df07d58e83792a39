// Fuzz target: the safety layer's parsers of outside input. The first byte picks one:
// - a policy file (policy_parse): it either throws policy_error or gives a policy that reads
//   back the same from its own file format (policy_parse(policy_json(p)) == p);
// - a text the rule layer checks (rules_match at a check point, the checker's verdict): the
//   normalizer and the base64 / hex / rot13 decoding see hostile bytes on every request, and
//   a verdict must name a category the policy knows whenever it is not a plain allow.
#include "safety/checker.h"
#include "safety/policy.h"
#include "safety/rules.h"

#include <cstdlib>
#include <string>

using namespace muse::safety;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
    if (data[0] & 1) {
        policy p;
        try {
            p = policy_parse(text, "fuzz-policy.json");
        } catch (const policy_error &) {
            return 0;
        }
        const policy back = policy_parse(policy_json(p), "round-trip");
        if (!(back == p)) abort();
        return 0;
    }
    static const checker c(policy_default());
    const check_point point = (check_point) ((data[0] >> 1) % 6);
    for (const auto & m : rules_match(text, point)) {
        if (!c.policy_of().category_find(m.category)) abort();
    }
    const verdict v = c.check(point, text);
    if (v.action != POLICY_ACTION_ALLOW && !c.policy_of().category_find(v.category)) abort();
    return 0;
}
