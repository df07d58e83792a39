// Fuzz target: the GBNF rewrites of src/engine/grammar-bounds.h on arbitrary grammar text. The
// grammars come from llama-common's schema and tool converters, fed by a request's schemas
// and tool names, and a user's own grammar goes through grammar_numbers_bounded: any text must
// come back as text, never a crash or a hang.
#include "engine/grammar-bounds.h"

#include <fuzzer/FuzzedDataProvider.h>

using namespace muse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FuzzedDataProvider     in(data, size);
    const int              which = in.ConsumeIntegralInRange(0, 4);
    std::vector<chat_tool> tools;
    if (in.ConsumeBool()) {
        tools.push_back({ in.ConsumeRandomLengthString(16), "", in.ConsumeRandomLengthString(128) });
    }
    std::vector<grammar_tag> tags;
    if (which == 4) tags.push_back({ in.ConsumeRandomLengthString(10), { 7, 8, 9 } });
    const std::string grammar = in.ConsumeRemainingBytesAsString();
    switch (which) {
        case 0: (void) grammar_numbers_bounded(grammar); break;
        case 1: (void) grammar_calls_only(grammar, tools.empty()); break;
        case 2: (void) grammar_atem_bounded(grammar, tools); break;
        case 3: (void) grammar_calls_bounded(grammar, (int) (size % 9)); break;
        default: (void) grammar_tags_as_tokens(grammar, tags); break;
    }
    return 0;
}
