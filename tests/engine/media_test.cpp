// Images through the vision projector (and audio through an audio projector) add the
// projector's tokens to the prompt; broken or unsupported media are refused clearly.
#include "engine/error.h"
#include "engine/media.h"
#include "test-util.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

using namespace muse;
using namespace muse::test;

namespace {

std::string tmp_path(const std::string & name) {
    return (std::filesystem::temp_directory_path() / ("muse-media-test-" + name)).string();
}

std::vector<uint8_t> png_make(int w, int h) {
    std::vector<uint8_t> px((size_t) w * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t * p = &px[((size_t) y * w + x) * 3];
            p[0] = (uint8_t) (x * 255 / w); p[1] = (uint8_t) (y * 255 / h); p[2] = (uint8_t) ((x ^ y) & 0xff);
        }
    std::vector<uint8_t> out;
    stbi_write_png_to_func([](void * ctx, void * data, int size) {
        auto * v = static_cast<std::vector<uint8_t> *>(ctx);
        v->insert(v->end(), (uint8_t *) data, (uint8_t *) data + size);
    }, &out, w, h, 3, px.data(), w * 3);
    return out;
}

std::vector<uint8_t> wav_make(int sample_rate, double seconds) {
    const uint32_t n = (uint32_t) (sample_rate * seconds);
    std::vector<uint8_t> out(44 + n * 2);
    auto put32 = [&](size_t at, uint32_t v) { memcpy(&out[at], &v, 4); };
    auto put16 = [&](size_t at, uint16_t v) { memcpy(&out[at], &v, 2); };
    memcpy(&out[0], "RIFF", 4); put32(4, 36 + n * 2); memcpy(&out[8], "WAVE", 4);
    memcpy(&out[12], "fmt ", 4); put32(16, 16); put16(20, 1); put16(22, 1); put32(24, sample_rate);
    put32(28, sample_rate * 2); put16(32, 2); put16(34, 16);
    memcpy(&out[36], "data", 4); put32(40, n * 2);
    for (uint32_t i = 0; i < n; ++i) {
        put16(44 + i * 2, (uint16_t) (int16_t) (8000 * std::sin(2 * M_PI * 440.0 * i / sample_rate)));
    }
    return out;
}

chat_prompt prompt_with_media(const model & m, size_t n_media, const std::string & text) {
    chat_request req = dated_request();
    chat_message msg;
    msg.role = "user";
    for (size_t i = 0; i < n_media; ++i) msg.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", i });
    msg.parts.push_back({ CHAT_PART_TYPE_TEXT, text, 0 });
    req.messages.push_back(msg);
    return chat_format(m, req, m.media_marker());
}

void expect_media_error(const model & m, std::vector<uint8_t> bytes, const std::string & needle) {
    try {
        media::from_bytes(m.projector(), std::move(bytes), "test-input");
        FAIL() << "accepted; expected an error containing \"" << needle << "\"";
    } catch (const input_error & e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("test-input"), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(media, sniffing_by_magic_bytes) {
    const auto png = png_make(4, 4);
    EXPECT_EQ(media_kind_sniff(png.data(), png.size()), MEDIA_KIND_PNG);
    const auto wav = wav_make(16000, 0.1);
    EXPECT_EQ(media_kind_sniff(wav.data(), wav.size()), MEDIA_KIND_WAV);
    const uint8_t jpeg[] = { 0xFF, 0xD8, 0xFF, 0xE0 };
    EXPECT_EQ(media_kind_sniff(jpeg, 4), MEDIA_KIND_JPEG);
    const uint8_t gif[] = { 'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0 };
    EXPECT_EQ(media_kind_sniff(gif, sizeof(gif)), MEDIA_KIND_GIF);
    const uint8_t mp3[] = { 'I', 'D', '3', 4, 0 };
    EXPECT_EQ(media_kind_sniff(mp3, sizeof(mp3)), MEDIA_KIND_MP3);
    std::string detected;
    const uint8_t webp[] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P' };
    EXPECT_EQ(media_kind_sniff(webp, sizeof(webp), &detected), MEDIA_KIND_UNKNOWN);
    EXPECT_EQ(detected, "WebP");
    const uint8_t tiff[] = { 'I', 'I', '*', 0 };
    EXPECT_EQ(media_kind_sniff(tiff, sizeof(tiff), &detected), MEDIA_KIND_UNKNOWN);
    EXPECT_EQ(detected, "TIFF");
}

TEST(media, an_image_adds_the_projectors_tokens) {
    auto m = model_open(test_backend(), "muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    session s(*m, context_small(2, 4096));

    auto text_only = s.sequence_add(user_prompt(*m, "What is in the picture?"), {}, greedy(4));
    s.prefill(text_only);
    const int32_t n_text = s.sequence(text_only).n_prompt;
    s.sequence_release(text_only);

    std::vector<media> images;
    images.push_back(media::from_bytes(m->projector(), png_make(64, 48), "test.png"));
    EXPECT_EQ(images[0].width(), 64u);
    auto with_image = s.sequence_add(prompt_with_media(*m, 1, "What is in the picture?"), images, greedy(8));
    s.prefill(with_image);
    const int32_t n_image = s.sequence(with_image).n_prompt;
    EXPECT_GT(n_image, n_text) << "the image added no tokens";
    auto [tokens, text] = run_to_end(s, with_image);
    EXPECT_FALSE(tokens.empty());
}

TEST(media, media_count_must_match_the_placeholders) {
    auto m = model_open(test_backend(), "muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    session s(*m, context_small(2, 4096));
    std::vector<media> images;
    images.push_back(media::from_bytes(m->projector(), png_make(32, 32), "a.png"));
    images.push_back(media::from_bytes(m->projector(), png_make(32, 32), "b.png"));
    EXPECT_THROW(s.sequence_add(prompt_with_media(*m, 1, "one placeholder"), images, greedy(4)), input_error);
    EXPECT_EQ(s.n_live(), 0);
}

TEST(media, broken_and_unsupported_media_are_refused) {
    auto m   = model_open(test_backend(), "muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    auto png = png_make(64, 64);
    expect_media_error(*m, std::vector<uint8_t>(png.begin(), png.begin() + (std::ptrdiff_t) png.size() / 2), "could not be decoded");
    expect_media_error(*m, { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 0, 0, 0, 0 }, "WebP");
    expect_media_error(*m, { 'h', 'e', 'l', 'l', 'o' }, "unsupported media type");
    expect_media_error(*m, {}, "unsupported media type");
    expect_media_error(*m, wav_make(16000, 0.5), "no audio");
    // A PNG header claiming 100000 x 100000 pixels is refused before decoding.
    auto huge = png_make(8, 8);
    const uint8_t dim[4] = { 0x00, 0x01, 0x86, 0xA0 };
    memcpy(&huge[16], dim, 4);
    memcpy(&huge[20], dim, 4);
    expect_media_error(*m, huge, "pixels");
}

TEST(media, images_need_a_projector) {
    auto m = model_open(test_backend(), "llama-tiny.gguf");
    expect_media_error(*m, png_make(8, 8), "--mmproj");
}

TEST(media, audio_adds_the_audio_projectors_tokens) {
    auto m = model_open(test_backend(), "llama-tiny.gguf", "llama-tiny-audio-mmproj.gguf");
    ASSERT_TRUE(m->info().has_audio);
    session s(*m, context_small(2, 4096));
    auto text_only = s.sequence_add(user_prompt(*m, "Transcribe."), {}, greedy(4));
    s.prefill(text_only);
    const int32_t n_text = s.sequence(text_only).n_prompt;
    s.sequence_release(text_only);

    std::vector<media> clips;
    clips.push_back(media::from_bytes(m->projector(), wav_make(16000, 1.0), "tone.wav"));
    EXPECT_TRUE(clips[0].is_audio());
    auto h = s.sequence_add(prompt_with_media(*m, 1, "Transcribe."), clips, greedy(4));
    s.prefill(h);
    EXPECT_GT(s.sequence(h).n_prompt, n_text);
    expect_media_error(*m, png_make(8, 8), "no images");
}

// Audio headers that claim more than the file holds are refused before decoding: the decoder
// sizes its buffer from them (a 30-byte FLAC claiming 36 billion samples asked for 72 GB; the
// fuzz target media_sniff found it), and miniaudio is asked what it will allocate. A claim over
// the length limit is a limit, not a decode.
TEST(media, audio_headers_that_claim_too_much_are_refused_before_decoding) {
    auto m = model_open(test_backend(), "llama-tiny.gguf", "llama-tiny-audio-mmproj.gguf");
    // fLaC, a last STREAMINFO block of 34 bytes: block sizes, frame sizes, then 20 bits of sample
    // rate, 3 of channels - 1, 5 of bits - 1, 36 of total samples, and the MD5 (zeros).
    auto flac = [](uint32_t rate, uint64_t samples) {
        std::vector<uint8_t> b = { 'f', 'L', 'a', 'C', 0x80, 0, 0, 34, 0x10, 0, 0x10, 0, 0, 0, 0, 0, 0, 0 };
        b.push_back((uint8_t) (rate >> 12));
        b.push_back((uint8_t) (rate >> 4));
        b.push_back((uint8_t) ((rate & 0x0F) << 4));               // mono; 16 bits per sample (15 = 0b0'1111) ...
        b.push_back((uint8_t) (0xF0 | ((samples >> 32) & 0x0F)));  // ... its low four bits, then the samples' top four
        for (int s = 24; s >= 0; s -= 8) b.push_back((uint8_t) (samples >> s));
        b.resize(8 + 34, 0);
        return b;
    };
    expect_media_error(*m, flac(0, 1000), "sample rate of 0");
    expect_media_error(*m, flac(16000, 36'000'000'000ull), "over 2 GiB decoded");
    expect_media_error(*m, flac(16000, 16000ull * 3600), "over the limit");
    // An ID3 tag with a footer (flag 0x10) ahead of the stream: miniaudio skips the footer too
    // and finds the FLAC where the header peek did not look (fuzz.media_sniff on CI's machine
    // asked for 33 GB so). The decoder's own answer refuses it before anything is decoded.
    std::vector<uint8_t> tagged = { 'I', 'D', '3', 4, 0, 0x10, 0, 0, 0, 2, 0, 0, '3', 'D', 'I', 4, 0, 0x10, 0, 0, 0, 2 };
    const auto hour = flac(16000, 16000ull * 3600);
    tagged.insert(tagged.end(), hour.begin(), hour.end());
    expect_media_error(*m, tagged, "stream's header says");
    // A WAV whose data chunk claims an hour plays only the bytes it has: refused by what is there.
    std::vector<uint8_t> wav = wav_make(16000, 0.5);
    expect_media_error(*m, wav_make(16000, 601.0), "over the limit");
    EXPECT_NO_THROW(media::from_bytes(m->projector(), std::move(wav), "short.wav"));
}
