#pragma once
// read_text: OCR (tesseract) of one of the run's images or of a box in it. Works without any
// model; the words come back with pixel boxes in the result's detail.
#include "agent/tool.h"
#include "agent/tools/image-args.h"
#include "extract/ocr.h"

namespace muse::agent {

struct read_text_options {
    image_count_fn image_count;  // bounds the image argument (image-args.h); null: unbounded
    extract::ocr_options ocr;                     // language, upscaling; deadline/cancel come from the call
    size_t               max_text_bytes = 16000;  // of the text the model reads
    size_t               max_words      = 4000;   // in detail
    uint64_t             max_pixels     = 40'000'000;
};

tool_ptr read_text_tool(read_text_options options = {});

}  // namespace muse::agent
