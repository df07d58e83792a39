#pragma once
// RAII over libcurl's handles: an easy handle, a header list, a parsed URL.
#include <curl/curl.h>

#include <memory>
#include <string>

namespace muse::pull {

struct curl_easy_deleter {
    void operator()(CURL * h) const { curl_easy_cleanup(h); }
};

struct curl_slist_deleter {
    void operator()(curl_slist * l) const { curl_slist_free_all(l); }
};

using curl_easy_ptr  = std::unique_ptr<CURL, curl_easy_deleter>;
using curl_slist_ptr = std::unique_ptr<curl_slist, curl_slist_deleter>;

// Throws download_error when libcurl cannot make a handle (out of memory).
curl_easy_ptr curl_easy_make();

// Appends one header line to the list (which may start empty).
void curl_slist_add(curl_slist_ptr & list, const std::string & line);

// "host" or "host:port" of a URL, for messages; the URL itself when it does not parse.
std::string curl_url_host(const std::string & url);

}  // namespace muse::pull
