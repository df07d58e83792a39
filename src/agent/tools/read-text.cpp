#include "agent/tools/read-text.h"

#include "agent/text-cap.h"
#include "agent/tools/image-args.h"
#include "engine/error.h"

namespace muse::agent {

using json = nlohmann::json;

namespace {

json box_json(const extract::pixel_box & b) {
    return { { "x1", b.x1 }, { "y1", b.y1 }, { "x2", b.x2 }, { "y2", b.y2 } };
}

class read_text final : public tool {
  public:
    explicit read_text(read_text_options opt) : opt_(std::move(opt)) {}

    chat_tool definition() const override {
        const json params = {
            { "type", "object" },
            { "properties",
              { { "image",
                  image_number_schema(opt_.image_count) },
                { "box", norm_box_schema("Optional region [x1, y1, x2, y2], integers 0-1000 relative to the image's "
                                         "width and height; omitted: the whole image") } } },
            { "required", json::array({ "image" }) }
        };
        return { "read_text",
                 "Read the text in an image with OCR (printed text: documents, screenshots, signs), optionally only "
                 "inside a box. Returns the text; each word's pixel box is in the result's detail.",
                 params.dump() };
    }

    tool_result call(const json & args, const tool_context & ctx) override {
        auto loaded = load_image_arg(args, ctx, "read_text", "{\"image\": 1}", opt_.max_pixels);
        if (!loaded.image)
            return image_tool_error(loaded.error);
        const auto & img = *loaded.image;
        std::string  box_error;
        const auto   box_norm = norm_box_arg(args, "box", box_error);
        if (!box_error.empty())
            return image_tool_error("read_text: " + box_error);

        const int32_t      w = img.picture.width, h = img.picture.height;
        extract::pixel_box box { 0, 0, w, h };
        if (box_norm)
            box = norm_box_to_px(*box_norm, w, h);

        extract::ocr_options ocr = opt_.ocr;
        ocr.deadline             = std::min(ocr.deadline, ctx.deadline);
        if (ctx.cancel)
            ocr.cancel = ctx.cancel;
        extract::ocr_result res;
        try {
            res = extract::ocr_read(img.picture, box, ocr);
        } catch (const input_error & e) {  // limit_error too: time, size
            return image_tool_error(std::string("read_text: ") + e.what());
        }

        json words = json::array();
        for (size_t i = 0; i < res.words.size() && i < opt_.max_words; ++i) {
            const auto & wd = res.words[i];
            words.push_back(
                { { "text", wd.text }, { "box", box_json(wd.box) }, { "confidence", std::lround(wd.confidence) } });
        }
        const std::string where = "image " + std::to_string(img.entry.number) + " (" + std::to_string(w) + "x" +
                                  std::to_string(h) + ")" +
                                  (box_norm ? ", box pixels [" + std::to_string(box.x1) + "," + std::to_string(box.y1) +
                                                  "," + std::to_string(box.x2) + "," + std::to_string(box.y2) + ")"
                                            : std::string());
        tool_result r;
        r.text   = res.text.empty() ? "no text found in " + where
                                    : "text in " + where + ", " + std::to_string(res.words.size()) + " words:\n" +
                                        text_cap(res.text, opt_.max_text_bytes);
        r.detail = { { "coordinates", norm_convention },
                     { "image", img.entry.number },
                     { "width", w },
                     { "height", h },
                     { "box_px", box_json(box) },
                     { "scale", res.scale },
                     { "text", text_cap(res.text, opt_.max_text_bytes) },
                     { "words", std::move(words) },
                     { "word_count", res.words.size() } };
        if (box_norm)
            r.detail["box_norm"] = px_box_to_norm(box, w, h);
        return r;
    }

  private:
    read_text_options opt_;
};

}  // namespace

tool_ptr read_text_tool(read_text_options options) {
    return std::make_shared<read_text>(std::move(options));
}

}  // namespace muse::agent
