#pragma once
// How many samples llama.cpp's mtmd helper will allocate to decode an audio clip, asked of the
// same decoder before it runs: mtmd sizes its buffer from what the container's header claims,
// resampled to the projector's rate, and a header-peek of our own cannot follow every path
// miniaudio takes to a stream (an ID3 tag with a footer in front of a FLAC stream, say).
#include <cstddef>
#include <cstdint>
#include <optional>

namespace muse {

// The frames, mono, at `sample_rate`, that mtmd_helper_bitmap_init_from_buf would allocate for
// these bytes; nullopt when miniaudio opens no stream in them (mtmd then fails as well).
std::optional<uint64_t> audio_frames_claimed(const uint8_t * data, size_t size, int sample_rate);

}  // namespace muse
