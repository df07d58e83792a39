// Fuzz target: an uploaded image or audio clip. media_kind_sniff, then media_add as the chat
// routes call it (the pixel peek from the header, stb / miniaudio decoding in mtmd's helper, the
// audio length check) with the server's limits, on a vision projector (Muse Glimmer) and an
// audio one (the tiny Llama); then picture_decode, the seeing tools' own stb decoder.
#include "engine/error.h"
#include "engine/media.h"
#include "extract/picture.h"
#include "fuzz-util.h"
#include "server/chat-call.h"
#include "server/http-error.h"

using namespace muse;

static const model & vision_model() { return fuzz::fuzz_model("muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf"); }
static const model & audio_model() { return fuzz::fuzz_model("llama-tiny.gguf", "llama-tiny-audio-mmproj.gguf"); }

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    vision_model();
    audio_model();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    // The server's limits with the pixel cap cut, so one input decodes in milliseconds.
    static const server::server_limits limits = [] {
        server::server_limits l;
        l.media.max_pixels = 1u << 20;
        return l;
    }();
    std::string detected;
    const media_kind kind = media_kind_sniff(data, size, &detected);
    (void) media_kind_name(kind);
    std::string bytes((const char *) data, size);
    try {
        server::chat_call call;
        const model &     mdl = media_kind_is_audio(kind) ? audio_model() : vision_model();
        const size_t      i   = server::media_add(call, mdl, bytes, "image_url #1", limits);
        const media &     m   = (*call.media)[i];
        if (!m.is_audio() && (uint64_t) m.width() * m.height() > limits.media.max_pixels) abort();
    } catch (const server::http_error & e) {
        if (e.status < 400 || e.status > 499) abort();
    }
    try {
        const extract::picture p = extract::picture_decode(bytes, 1u << 20);
        if (p.rgb.size() != (size_t) p.width * p.height * 3) abort();
    } catch (const input_error &) {
    }
    return 0;
}
