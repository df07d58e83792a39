#pragma once
// What `muse pull` was asked for: `hf:OWNER/REPO/FILE.gguf[@REVISION]` or a plain http(s) URL,
// resolved to the URL to fetch and the file name it gets in the models dir.
#include <string>

namespace muse::pull {

// The environment a source resolves against; read once by source_env_read, passed in by tests.
struct source_env {
    std::string hf_endpoint = "https://huggingface.co";  // $MUSE_HF_ENDPOINT, else $HF_ENDPOINT
    std::string hf_token;                                // $HF_TOKEN
};

struct pull_source {
    std::string url;           // what to fetch
    std::string file_name;     // the name it gets in the models dir (the URL's last segment)
    std::string what;          // for messages: "file F in Hugging Face repo O/R (revision V)" or the URL
    std::string bearer_token;  // sent as Authorization; only ever set for the hf endpoint
    std::string auth_hint;     // what to do on HTTP 401/403
    std::string missing_hint;  // what to do on HTTP 404
};

source_env source_env_read();

// Throws muse::input_error naming the source and the accepted forms.
pull_source source_parse(const std::string & text, const source_env & env);

}  // namespace muse::pull
