#include "engine/audio-frames.h"

// miniaudio from the pinned llama.cpp tree (vendor/miniaudio), compiled as mtmd-helper.cpp
// compiles it: decoding only, every function static to this file, so it is the same decoder
// with the same answers, and its symbols meet neither mtmd's copy nor anything else.
#define MINIAUDIO_IMPLEMENTATION
#define MA_NO_ENCODING
#define MA_NO_DEVICE_IO
#define MA_NO_RESOURCE_MANAGER
#define MA_NO_NODE_GRAPH
#define MA_NO_ENGINE
#define MA_NO_GENERATION
#define MA_API static
#define ma_atomic_global_lock muse_ma_atomic_global_lock  // the one global MA_API leaves extern
#include "miniaudio/miniaudio.h"

namespace muse {

std::optional<uint64_t> audio_frames_claimed(const uint8_t * data, size_t size, int sample_rate) {
    // mtmd's decode_audio_from_buf: f32, one channel, the projector's rate.
    ma_decoder_config config = ma_decoder_config_init(ma_format_f32, 1, (ma_uint32) sample_rate);
    ma_decoder        decoder;
    if (ma_decoder_init_memory(data, size, &config, &decoder) != MA_SUCCESS) {
        return std::nullopt;
    }
    ma_uint64 frames = 0;
    const ma_result rc = ma_decoder_get_length_in_pcm_frames(&decoder, &frames);
    ma_decoder_uninit(&decoder);
    if (rc != MA_SUCCESS) {
        return std::nullopt;
    }
    return (uint64_t) frames;
}

}  // namespace muse
