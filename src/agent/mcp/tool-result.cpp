#include "agent/mcp/tool-result.h"

#include "agent/text-cap.h"

#include "agent/mcp/base64.h"
#include "agent/mcp/json-rpc.h"

namespace muse::agent {

using json = nlohmann::json;

namespace {

std::string result_string(const json & object, const char * key) {
    if (!object.is_object()) {
        return "";
    }
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string result_extension(const std::string & mime) {
    if (mime == "image/png") {
        return "png";
    }
    if (mime == "image/jpeg") {
        return "jpg";
    }
    if (mime == "image/gif") {
        return "gif";
    }
    if (mime == "image/webp") {
        return "webp";
    }
    if (mime == "image/svg+xml") {
        return "svg";
    }
    return "bin";
}

std::string result_resource_text(const json & resource) {
    const std::string uri  = result_string(resource, "uri");
    const std::string mime = result_string(resource, "mimeType");
    if (resource.is_object() && resource.contains("text") && resource["text"].is_string()) {
        return "[resource " + uri + "]\n" + resource["text"].get<std::string>();
    }
    std::string blob = result_string(resource, "blob");
    size_t      size = blob.size() / 4 * 3;
    return "[resource " + uri + (mime.empty() ? "" : " (" + mime + ")") + ": about " + std::to_string(size) +
           " bytes of binary data, not shown]";
}

// Control characters other than tab and newlines in caret notation ("^[" for ESC, "^?" for DEL,
// "^[" too for the C1 codes' UTF-8 form): a server's escape sequences would otherwise retitle,
// clear or rewrite the terminal muse prints results on, and they mean nothing to a model.
std::string result_controls_shown(const std::string & text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        const unsigned char c = (unsigned char) text[i];
        if (c == 0xC2 && i + 1 < text.size() && (unsigned char) text[i + 1] >= 0x80 && (unsigned char) text[i + 1] <= 0x9F) {
            out += "^[";  // U+0080..U+009F: CSI, OSC and the rest as one byte
            i++;
        } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            out += '^';
            out += c == 0x7F ? '?' : (char) (c + 0x40);
        } else {
            out += (char) c;
        }
    }
    return out;
}

}  // namespace

std::string mcp_text_capped(const std::string & text, size_t cap) {
    if (text.size() <= cap) {
        return text;
    }
    const size_t cut = utf8_cut(text, cap);
    return text.substr(0, cut) + "\n[output truncated: the first " + std::to_string(cut) + " of " +
           std::to_string(text.size()) + " bytes are shown]";
}

tool_result mcp_tool_result_from(const json & result, const std::string & name_prefix, size_t text_cap) {
    tool_result out;
    std::string text;
    auto        line_add = [&](const std::string & line) {
        if (!text.empty()) {
            text += "\n";
        }
        text += line;
    };

    if (result.is_object() && result.contains("isError") && result["isError"].is_boolean()) {
        out.is_error = result["isError"].get<bool>();
    }
    const json * content = nullptr;
    if (result.is_object() && result.contains("content") && result["content"].is_array()) {
        content = &result["content"];
    }
    if (content) {
        for (const json & block : *content) {
            const std::string type = result_string(block, "type");
            if (type == "text") {
                line_add(result_string(block, "text"));
            } else if (type == "image") {
                std::string mime  = result_string(block, "mimeType");
                auto        bytes = mcp_base64_decode(result_string(block, "data"));
                if (!bytes || bytes->empty()) {
                    line_add("[the server sent an image that is not valid base64; it is left out]");
                    continue;
                }
                tool_image image;
                image.name  = name_prefix + "-" + std::to_string(out.images.size() + 1) + "." + result_extension(mime);
                image.mime  = mime.empty() ? "application/octet-stream" : mime;
                image.bytes = std::move(*bytes);
                line_add("[image " + image.name + " (" + image.mime + ", " + std::to_string(image.bytes.size()) +
                         " bytes)]");
                out.images.push_back(std::move(image));
            } else if (type == "audio") {
                line_add("[audio (" + result_string(block, "mimeType") + "), not shown]");
            } else if (type == "resource") {
                line_add(
                    result_resource_text(block.is_object() && block.contains("resource") ? block["resource"] : json()));
            } else if (type == "resource_link") {
                std::string line =
                    "[resource link: " + result_string(block, "name") + " " + result_string(block, "uri");
                std::string mime = result_string(block, "mimeType");
                std::string desc = result_string(block, "description");
                if (!mime.empty()) {
                    line += " (" + mime + ")";
                }
                if (!desc.empty()) {
                    line += ": " + desc;
                }
                line_add(line + "]");
            } else {
                line_add("[content of type '" + type + "' is not shown]");
            }
        }
    }
    // A tool may answer with structured content only.
    if ((!content || content->empty()) && result.is_object() && result.contains("structuredContent")) {
        line_add(jsonrpc_dump(result["structuredContent"]));
    }
    out.text = mcp_text_capped(result_controls_shown(text), text_cap);
    return out;
}

}  // namespace muse::agent
