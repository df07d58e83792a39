#include "pull/curl-handle.h"

#include "pull/download.h"

namespace muse::pull {

curl_easy_ptr curl_easy_make() {
    curl_easy_ptr h(curl_easy_init());
    if (!h) {
        throw download_error("libcurl could not make a transfer handle (out of memory?)");
    }
    return h;
}

void curl_slist_add(curl_slist_ptr & list, const std::string & line) {
    curl_slist * grown = curl_slist_append(list.get(), line.c_str());
    if (!grown) {
        throw download_error("libcurl could not add the header '" + line.substr(0, line.find(':')) + "'");
    }
    (void)list.release();  // curl_slist_append returned the same list, now one longer
    list.reset(grown);
}

struct curl_url_deleter {
    void operator()(CURLU * u) const { curl_url_cleanup(u); }
};

struct curl_string_deleter {
    void operator()(char * s) const { curl_free(s); }
};

static std::string curl_url_part(CURLU * u, CURLUPart what) {
    char * raw = nullptr;
    if (curl_url_get(u, what, &raw, 0) != CURLUE_OK) {
        return "";
    }
    std::unique_ptr<char, curl_string_deleter> part(raw);
    return part.get();
}

std::string curl_url_host(const std::string & url) {
    std::unique_ptr<CURLU, curl_url_deleter> u(curl_url());
    if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
        return url;
    }
    const std::string host = curl_url_part(u.get(), CURLUPART_HOST);
    const std::string port = curl_url_part(u.get(), CURLUPART_PORT);
    return port.empty() ? host : host + ":" + port;
}

}  // namespace muse::pull
