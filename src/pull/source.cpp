#include "pull/source.h"

#include <cctype>
#include <cstdlib>
#include <vector>

#include "engine/error.h"

namespace muse::pull {

static const char * forms = "give hf:OWNER/REPO/FILE.gguf (optionally @REVISION) or an http:// or https:// URL";

static std::string env_get(const char * name) {
    const char * v = std::getenv(name);
    return v ? v : "";
}

source_env source_env_read() {
    source_env env;
    for (const char * name : { "MUSE_HF_ENDPOINT", "HF_ENDPOINT" }) {
        if (!env_get(name).empty()) {
            env.hf_endpoint = env_get(name);
            break;
        }
    }
    env.hf_token = env_get("HF_TOKEN");
    return env;
}

// Percent-encodes all but the unreserved characters (RFC 3986), and '/' when keep_slash.
static std::string url_encode(const std::string & s, bool keep_slash) {
    static const char * hex = "0123456789ABCDEF";
    std::string         out;
    for (unsigned char c : s) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                           c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        if (plain) {
            out += (char)c;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

static std::vector<std::string> split(const std::string & s, char sep) {
    std::vector<std::string> parts;
    size_t                   start = 0;
    for (;;) {
        const size_t end = s.find(sep, start);
        parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) {
            return parts;
        }
        start = end + 1;
    }
}

static pull_source source_parse_hf(const std::string & text, const source_env & env) {
    std::string  spec     = text.substr(3);
    std::string  revision = "main";
    const size_t at       = spec.rfind('@');
    if (at != std::string::npos) {
        revision = spec.substr(at + 1);
        spec     = spec.substr(0, at);
        if (revision.empty()) {
            throw input_error("source '" + text + "' has an empty revision after '@': name a branch, tag or commit, " +
                              "or leave out the '@'");
        }
    }
    const auto parts = split(spec, '/');
    if (parts.size() < 3) {
        throw input_error("source '" + text + "' names no file: " + forms);
    }
    for (const auto & p : parts) {
        if (p.empty() || p == "." || p == "..") {
            throw input_error("source '" + text + "' has an empty or '.'/'..' path segment: " + forms);
        }
    }
    const std::string repo = parts[0] + "/" + parts[1];
    const std::string file = spec.substr(repo.size() + 1);

    std::string endpoint = env.hf_endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') {
        endpoint.pop_back();
    }
    pull_source src;
    src.url = endpoint + "/" + url_encode(parts[0], false) + "/" + url_encode(parts[1], false) + "/resolve/" +
              url_encode(revision, false) + "/" + url_encode(file, true);
    src.file_name    = parts.back();
    src.what         = "file '" + file + "' in Hugging Face repo '" + repo + "' (revision " + revision + ")";
    src.bearer_token = env.hf_token;
    src.missing_hint = "check the spelling of the owner, repo, file name and revision";
    src.auth_hint    = env.hf_token.empty()
                           ? "the repo needs a token: set HF_TOKEN to a Hugging Face access token that can read '" + repo +
                              "' (gated repos also need their terms accepted on the website)"
                           : "HF_TOKEN was refused: check that it can read '" + repo +
                              "' and that the repo's terms were accepted on the website";
    return src;
}

static bool starts_with_nocase(const std::string & s, const std::string & prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (size_t i = 0; i < prefix.size(); i++) {
        if (std::tolower((unsigned char)s[i]) != prefix[i]) {
            return false;
        }
    }
    return true;
}

static pull_source source_parse_url(const std::string & text) {
    const size_t host_start = text.find("://") + 3;
    const size_t path_start = text.find_first_of("/?#", host_start);
    if (path_start == host_start || host_start == text.size()) {
        throw input_error("URL '" + text + "' names no host: " + forms);
    }
    pull_source src;
    src.url  = text;
    src.what = text;
    if (path_start != std::string::npos && text[path_start] == '/') {
        const std::string path = text.substr(path_start, text.find_first_of("?#", path_start) - path_start);
        src.file_name          = path.substr(path.rfind('/') + 1);
    }
    src.missing_hint = "check the URL";
    src.auth_hint    = "the server refused access: check the URL, or download the file by hand if it needs a login";
    return src;
}

pull_source source_parse(const std::string & text, const source_env & env) {
    if (text.rfind("hf:", 0) == 0) {
        return source_parse_hf(text, env);
    }
    if (starts_with_nocase(text, "http://") || starts_with_nocase(text, "https://")) {
        return source_parse_url(text);
    }
    throw input_error("unsupported source '" + text + "': " + forms);
}

}  // namespace muse::pull
