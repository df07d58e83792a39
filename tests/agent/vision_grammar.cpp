// llama.cpp's JSON-schema grammar as a schema checker for vision_test.cpp. Its own translation
// unit: llama-common's include path carries its vendored nlohmann/json, a different version
// from the one muse builds with, so only strings cross this file's edge.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "json-schema-to-grammar.h"
#include "llama-grammar.h"

namespace muse::test {

bool schema_grammar_accepts(const std::string & schema_json, const std::string & text) {
    const std::string gbnf = json_schema_to_grammar(common_json::parse(schema_json));
    llama_grammar *   g    = llama_grammar_init_impl(nullptr, gbnf.c_str(), "root", false, nullptr, 0, nullptr, 0);
    if (!g)
        throw std::runtime_error("llama.cpp could not parse the grammar of the schema:\n" + gbnf);
    bool ok = true;
    try {
        llama_grammar_accept_str(*g, text);
    } catch (const std::runtime_error &) {  // a character no rule allows
        ok = false;
    }
    // Matched whole: some parse has nothing left to expect.
    const auto & stacks = llama_grammar_get_stacks(g);
    ok                  = ok && std::any_of(stacks.begin(), stacks.end(), [](const auto & s) { return s.empty(); });
    llama_grammar_free_impl(g);
    return ok;
}

}  // namespace muse::test
