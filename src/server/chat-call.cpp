#include "server/chat-call.h"

#include "engine/error.h"
#include "engine/model.h"
#include "server/http-error.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace muse::server {

void tool_choice_force(chat_call & call, const std::string & name, const std::string & param) {
    std::vector<chat_tool> only;
    for (const auto & t : call.request.tools) {
        if (t.name == name) only.push_back(t);
    }
    if (only.empty()) throw http_error(400, "tool_choice names '" + name + "', which is not in tools", param);
    call.request.tools       = only;
    call.request.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
}

std::string base64_encode(const std::string & bytes) {
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string base64_decode(const std::string & in, const std::string & param) {
    std::string out(in.size() / 4 * 3 + 3, '\0');
    size_t      n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char *>(out.data()), out.size(), in.data(), in.size(), " \r\n",
                          &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
        throw http_error(400, param + ": the data is not valid base64", param, "invalid_base64");
    }
    out.resize(n);
    return out;
}

namespace {

const char * image_mime(media_kind k) {
    switch (k) {
        case MEDIA_KIND_PNG:  return "image/png";
        case MEDIA_KIND_JPEG: return "image/jpeg";
        case MEDIA_KIND_BMP:  return "image/bmp";
        case MEDIA_KIND_GIF:  return "image/gif";
        default:              return nullptr;
    }
}

}  // namespace

size_t media_add(chat_call & call, const model & mdl, std::string bytes, const std::string & origin,
                 const server_limits & limits) {
    try {
        std::vector<uint8_t> data(bytes.begin(), bytes.end());
        const media_kind kind = media_kind_sniff(data.data(), data.size());
        call.media->push_back(media::from_bytes(mdl.projector(), std::move(data), origin, limits.media));
        if (const char * mime = image_mime(kind)) call.images->add(origin, mime, std::move(bytes));
    } catch (const limit_error & e) {
        throw http_error(413, e.what(), origin, "media_too_large");
    } catch (const input_error & e) {
        const std::string msg = e.what();
        const bool no_projector = msg.find("projector") != std::string::npos;
        throw http_error(no_projector ? 422 : 400, msg, origin, no_projector ? "media_unsupported" : "invalid_media");
    }
    return call.media->size() - 1;
}

std::string image_add_for_tools(chat_call & call, std::string bytes, const std::string & origin,
                                const server_limits & limits) {
    std::string detected;
    const media_kind kind = media_kind_sniff(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), &detected);
    const char * mime = image_mime(kind);
    if (!mime) {
        throw http_error(400, origin + ": not an image muse reads (PNG, JPEG, BMP, GIF)" +
                                  (detected.empty() ? std::string() : "; it is " + detected),
                         origin, "invalid_media");
    }
    if (bytes.size() > limits.media.max_bytes) {
        throw http_error(413, origin + ": the image has " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                                  std::to_string(limits.media.max_bytes), origin, "media_too_large");
    }
    const int32_t n = call.images->add(origin, mime, std::move(bytes));
    return "[image " + std::to_string(n) + ": this model cannot see images; read_text reads the text in it]";
}

void choice_tracker::push(const std::string & text) {
    raw_ += text;
    channel_.push(text);
    dirty_ = dirty_ || !text.empty();
}

// A parse is shown only when it extends what was shown: a partial parse may still change its
// mind about the tail (a tag that is half written), and sent text cannot be taken back.
choice_tracker::delta choice_tracker::take() {
    delta d;
    if (!dirty_ && !finished) return d;
    dirty_ = false;
    chat_parsed p = finished ? final_parse() : chat_parse(*prompt_, raw_, true);
    if (p.reasoning.size() > sent_reasoning_ && p.reasoning.compare(0, sent_reasoning_, shown_reasoning_) == 0) {
        d.reasoning      = p.reasoning.substr(sent_reasoning_);
        shown_reasoning_ = p.reasoning;
        sent_reasoning_  = p.reasoning.size();
    }
    if (p.content.size() > sent_content_ && p.content.compare(0, sent_content_, shown_content_) == 0) {
        d.content      = p.content.substr(sent_content_);
        shown_content_ = p.content;
        sent_content_  = p.content.size();
    }
    // Tool calls: a call is begun once the parser knows its name; its arguments go out as far
    // as they are settled. A partial parse closes what is open (a quote, braces) to give
    // valid JSON; that tail is held back until the text goes past it or the call ends.
    for (size_t i = 0; i < p.tool_calls.size(); ++i) {
        const auto & tc = p.tool_calls[i];
        if (i >= sent_arguments_.size()) {
            if (tc.name.empty()) break;
            sent_arguments_.emplace_back();
            d.tool_calls.push_back({ i, true, tc.id, tc.name, "" });
        }
        std::string settled = tc.arguments;
        const bool  last    = i + 1 == p.tool_calls.size();
        if (!finished && last) {
            // Closers, and a number still being written (its healed form may not last).
            while (!settled.empty() && std::string("}]\" \t\n\\0123456789.-+eE").find(settled.back()) != std::string::npos) {
                settled.pop_back();
            }
        }
        std::string & sent = sent_arguments_[i];
        if (settled.size() > sent.size() && settled.compare(0, sent.size(), sent) == 0) {
            const std::string more = settled.substr(sent.size());
            sent = settled;
            if (!d.tool_calls.empty() && d.tool_calls.back().index == i) {
                d.tool_calls.back().arguments += more;
            } else {
                d.tool_calls.push_back({ i, false, "", "", more });
            }
        }
    }
    return d;
}

const chat_parsed & choice_tracker::final_parse() {
    if (!final_) {
        final_ = chat_parse(*prompt_, raw_, false);
        if (reason == FINISH_REASON_LENGTH || reason == FINISH_REASON_CONTEXT) {
            // A call cut off by max_tokens has no whole arguments: it is dropped, not handed to
            // a client that would run it or send it back (the template refuses arguments that
            // are not JSON on the next turn).
            auto & calls = final_->tool_calls;
            calls.erase(std::remove_if(calls.begin(), calls.end(),
                                       [](const chat_tool_call & c) { return !nlohmann::json::parse(c.arguments, nullptr, false).is_object(); }),
                        calls.end());
        }
    }
    return *final_;
}

}  // namespace muse::server
