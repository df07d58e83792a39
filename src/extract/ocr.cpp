#include "extract/ocr.h"

#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "engine/error.h"

namespace muse::extract {

namespace {

struct text_deleter {
    void operator()(char * p) const { delete[] p; }
};
using tess_text = std::unique_ptr<char, text_deleter>;

// TessBaseAPI's destructor already calls End(); the wrapper exists so that the init that can
// fail and the settings every call needs live in one place.
class tess_api {
  public:
    tess_api(const std::filesystem::path & dir, const std::string & lang) {
        if (api_.Init(dir.c_str(), lang.c_str(), tesseract::OEM_DEFAULT) != 0) {
            throw input_error("OCR language '" + lang + "': tesseract could not load its traineddata from " +
                              dir.string() + "; reinstall the tesseract-ocr-* package for it");
        }
        // Quiet: tesseract's warnings would land in the host's stderr once per call.
        api_.SetVariable("debug_file", "/dev/null");
    }
    tesseract::TessBaseAPI & get() { return api_; }

  private:
    tesseract::TessBaseAPI api_;
};

// "chi_sim" -> "tesseract-ocr-chi-sim", as Debian names the packages.
std::string debian_package(const std::string & lang) {
    std::string p = "tesseract-ocr-";
    for (char c : lang)
        p += c == '_' ? '-' : (char)std::tolower((unsigned char)c);
    return p;
}

void check_languages(const std::filesystem::path & dir, const std::string & langs) {
    if (langs.empty())
        throw input_error("OCR language is empty; use a tesseract code such as \"eng\"");
    size_t start = 0;
    while (start <= langs.size()) {
        const size_t      end  = std::min(langs.find('+', start), langs.size());
        const std::string lang = langs.substr(start, end - start);
        const bool        ok   = !lang.empty() && std::all_of(lang.begin(), lang.end(),
                                                              [](char c) { return std::isalnum((unsigned char)c) || c == '_'; });
        if (!ok) {
            throw input_error("OCR language '" + langs +
                              "' is not a tesseract code list; use codes such as \"eng\" or \"eng+deu\"");
        }
        const auto      file = dir / (lang + ".traineddata");
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            throw input_error("OCR language '" + lang + "': " + file.string() + " is missing; install it with " +
                              "`apt-get install " + debian_package(lang) + "` (or set TESSDATA_PREFIX)");
        }
        start = end + 1;
    }
}

// The mean colour of the region's border: the margin tesseract gets around a tight crop
// (it misses text that touches the image edge) should look like the background.
rgb8 border_colour(const picture & p) {
    uint64_t r = 0, g = 0, b = 0, n = 0;
    auto     add = [&](int32_t x, int32_t y) {
        const rgb8 c = p.pixel(x, y);
        r += c.r, g += c.g, b += c.b, ++n;
    };
    for (int32_t x = 0; x < p.width; ++x)
        add(x, 0), add(x, p.height - 1);
    for (int32_t y = 0; y < p.height; ++y)
        add(0, y), add(p.width - 1, y);
    return { (uint8_t)(r / n), (uint8_t)(g / n), (uint8_t)(b / n) };
}

struct cancel_state {
    const std::atomic<bool> * cancel;
};

bool cancel_requested(void * self, int /*words*/) {
    const auto * s = static_cast<const cancel_state *>(self);
    return s->cancel && s->cancel->load();
}

struct pass_result {
    ocr_result result;
    int32_t    median_word_height = 0;  // in the input picture's pixels
};

pass_result read_pass(tess_api & tess, const picture & region, pixel_box at, float scale, const ocr_options & opt) {
    const int32_t sw     = std::max(1, (int32_t)std::lround((float)region.width * scale));
    const int32_t sh     = std::max(1, (int32_t)std::lround((float)region.height * scale));
    const picture scaled = scale == 1 ? region : picture_resize(region, sw, sh, opt.max_pixels);
    const int32_t pad    = 16;
    picture       page   = picture_make(sw + 2 * pad, sh + 2 * pad, border_colour(region));
    for (int32_t y = 0; y < sh; ++y) {
        std::copy_n(scaled.rgb.begin() + (ptrdiff_t)((size_t)y * (size_t)sw * 3), (size_t)sw * 3,
                    page.rgb.begin() + (ptrdiff_t)(((size_t)(y + pad) * (size_t)page.width + (size_t)pad) * 3));
    }

    auto & api = tess.get();
    api.SetPageSegMode(tesseract::PSM_AUTO);
    api.SetImage(page.rgb.data(), page.width, page.height, 3, page.width * 3);
    api.SetSourceResolution(300);  // unknown; without it tesseract guesses and warns

    tesseract::ETEXT_DESC monitor;
    cancel_state          cs { opt.cancel };
    monitor.cancel      = cancel_requested;
    monitor.cancel_this = &cs;
    if (std::chrono::steady_clock::now() >= opt.deadline) {
        throw limit_error("OCR stopped: the call's time ran out before it began; try again with more time");
    }
    if (opt.deadline != std::chrono::steady_clock::time_point::max()) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(opt.deadline - std::chrono::steady_clock::now());
        monitor.set_deadline_msecs((int32_t)std::clamp<int64_t>(left.count(), 1, INT32_MAX));
    }
    const int  rc      = api.Recognize(&monitor);
    const bool stopped = (opt.cancel && opt.cancel->load()) || monitor.deadline_exceeded();
    if (stopped)
        throw limit_error("OCR stopped: the call was cancelled or ran out of time; try a smaller box");
    if (rc != 0)
        throw muse::runtime_error("tesseract failed to read a " + std::to_string(sw) + "x" + std::to_string(sh) +
                                  " region");

    pass_result out;
    out.result.scale = scale;
    tess_text all(api.GetUTF8Text());
    out.result.text = all ? all.get() : "";
    while (!out.result.text.empty() && std::isspace((unsigned char)out.result.text.back()))
        out.result.text.pop_back();

    std::vector<int32_t>                       heights;
    std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
    if (it && !it->Empty(tesseract::RIL_WORD)) {
        do {
            tess_text word(it->GetUTF8Text(tesseract::RIL_WORD));
            int       l = 0, t = 0, r = 0, b = 0;
            if (!word || !it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b))
                continue;
            std::string w = word.get();
            if (w.find_first_not_of(" \t\n") == std::string::npos)
                continue;
            // From the padded, scaled page back to the input picture.
            auto back_x = [&](int v) {
                return std::clamp(at.x1 + (int32_t)std::lround((float)(v - pad) / scale), at.x1, at.x2);
            };
            auto back_y = [&](int v) {
                return std::clamp(at.y1 + (int32_t)std::lround((float)(v - pad) / scale), at.y1, at.y2);
            };
            ocr_word ow { std::move(w),
                          { back_x(l), back_y(t), back_x(r), back_y(b) },
                          it->Confidence(tesseract::RIL_WORD) };
            ow.confidence = std::clamp(ow.confidence, 0.0f, 100.0f);
            heights.push_back(ow.box.height());
            out.result.words.push_back(std::move(ow));
        } while (it->Next(tesseract::RIL_WORD));
    }
    if (!heights.empty()) {
        std::nth_element(heights.begin(), heights.begin() + (ptrdiff_t)(heights.size() / 2), heights.end());
        out.median_word_height = heights[heights.size() / 2];
    }
    return out;
}

}  // namespace

std::filesystem::path ocr_tessdata_dir(const ocr_options & opt) {
    if (!opt.tessdata_dir.empty())
        return opt.tessdata_dir;
    if (const char * env = std::getenv("TESSDATA_PREFIX"); env && *env)
        return env;
    return "/usr/share/tesseract-ocr/5/tessdata";
}

ocr_result ocr_read(const picture & p, std::optional<pixel_box> box, const ocr_options & opt) {
    const pixel_box at  = picture_clip(p, box.value_or(pixel_box { 0, 0, p.width, p.height }));
    const auto      dir = ocr_tessdata_dir(opt);
    check_languages(dir, opt.lang);
    const picture region = at == pixel_box { 0, 0, p.width, p.height } ? p : picture_crop(p, at);

    // Never upscale past the pixel limit; a region already over it is read as it is.
    const double room      = std::sqrt((double)opt.max_pixels / ((double)region.width * (double)region.height));
    const float  max_scale = (float)std::max(1.0, std::min<double>(opt.max_scale, room));
    // A strip shorter than one readable line cannot hold readable text at 1x.
    float scale = 1;
    if (region.height < opt.target_text_px + 8) {
        scale = std::min(max_scale, (float)(opt.target_text_px + 8) / (float)region.height);
    }

    tess_api    tess(dir, opt.lang);
    pass_result pass = read_pass(tess, region, at, scale, opt);
    const float seen = (float)pass.median_word_height * scale;  // word height as tesseract saw it
    if (pass.median_word_height > 0 && seen < (float)opt.min_text_px && scale < max_scale) {
        const float again = std::min(max_scale, scale * (float)opt.target_text_px / seen);
        if (again > scale * 1.2f)
            pass = read_pass(tess, region, at, again, opt);
    }
    return std::move(pass.result);
}

}  // namespace muse::extract
