#pragma once
// Text in pictures with tesseract: the whole text and each word with its box in pixels of the
// picture given (not of the upscaled copy tesseract reads). One tesseract instance per call,
// so calls from several threads run side by side.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "extract/picture.h"

namespace muse::extract {

struct ocr_word {
    std::string text;
    pixel_box   box;             // in the input picture's pixels, half-open
    float       confidence = 0;  // 0-100, tesseract's
};

struct ocr_result {
    std::string           text;  // lines as tesseract laid them out, trailing space trimmed
    std::vector<ocr_word> words;
    float                 scale = 1;  // the upscale tesseract read the region at
};

struct ocr_options {
    std::string           lang = "eng";  // tesseract's codes, "eng+deu" for several
    std::filesystem::path tessdata_dir;  // empty: $TESSDATA_PREFIX, else Debian's directory
    // tesseract reads text best at ~30 px high: a region whose words come out smaller than
    // min_text_px is read again upscaled to target_text_px (at most max_scale).
    int32_t                               min_text_px    = 20;
    int32_t                               target_text_px = 32;
    float                                 max_scale      = 4;
    uint64_t                              max_pixels     = 30'000'000;  // of the upscaled region tesseract reads
    std::chrono::steady_clock::time_point deadline       = std::chrono::steady_clock::time_point::max();
    const std::atomic<bool> *             cancel         = nullptr;
};

// The directory holding `<lang>.traineddata` for these options.
std::filesystem::path ocr_tessdata_dir(const ocr_options & opt);

// OCR of the picture, or of `box` in it (clipped to it). Throws input_error for a box outside
// the picture or a language whose traineddata is missing (naming the Debian package to install),
// limit_error when the deadline passes or cancel is set mid-way.
ocr_result ocr_read(const picture & p, std::optional<pixel_box> box = std::nullopt, const ocr_options & opt = {});

}  // namespace muse::extract
