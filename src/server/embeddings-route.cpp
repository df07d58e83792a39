// POST /v1/embeddings in OpenAI's format over the embedding model of
// `muse serve --embedding-model`: input as a string, strings, token ids or arrays of them;
// float or base64 vectors; `dimensions` truncates and re-normalizes. The request runs on its
// HTTP thread: the embedder's own lock takes the requests one at a time.
#include <cmath>
#include <cstring>

#include "engine/embedder.h"
#include "engine/error.h"
#include "server/json-fields.h"
#include "server/server-state.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

// OpenAI's own cap on inputs per request.
constexpr size_t max_inputs = 2048;

const char * const input_shapes =
    "input must be a string, an array of strings, an array of token ids, or an array of token-id arrays";

struct embed_inputs {
    std::vector<std::vector<int32_t>> tokens;  // one entry per input, as decoded
};

std::string input_param(size_t i) {
    return "input[" + std::to_string(i) + "]";
}

std::vector<int32_t> token_array_read(const json & arr, const std::string & param, const embedder & emb) {
    if (arr.empty())
        throw http_error(400, param + " is an empty token array; send at least one token id", param, "empty_input");
    std::vector<int32_t> out;
    out.reserve(arr.size());
    const int64_t n_vocab = emb.info().n_vocab;
    for (size_t j = 0; j < arr.size(); ++j) {
        const json &      t = arr[j];
        const std::string p = param + "[" + std::to_string(j) + "]";
        if (!t.is_number_integer())
            throw http_error(400, p + " must be an integer token id; " + input_shapes, p, "invalid_type");
        const int64_t id = t.get<int64_t>();
        if (id < 0 || id >= n_vocab) {
            throw http_error(400,
                             p + " is token id " + std::to_string(id) +
                                 ", outside the embedding model's vocabulary (0.." + std::to_string(n_vocab - 1) + ")",
                             p, "invalid_token");
        }
        out.push_back((int32_t)id);
    }
    return out;
}

std::vector<int32_t> text_read(const json & s, const std::string & param, const embedder & emb) {
    const std::string text = s.get<std::string>();
    if (text.empty())
        throw http_error(400, param + " is an empty string; send some text", param, "empty_input");
    return emb.tokenize(text);
}

// Every accepted shape of `input`, tokenized, each checked against the model's context.
embed_inputs inputs_read(const json & body, const embedder & emb) {
    if (!body.contains("input") || body["input"].is_null()) {
        throw http_error(400, "input is required: " + std::string(input_shapes), "input", "missing_field");
    }
    const json & in = body["input"];
    embed_inputs out;
    if (in.is_string()) {
        out.tokens.push_back(text_read(in, "input", emb));
    } else if (in.is_array()) {
        if (in.empty())
            throw http_error(400, "input is an empty array; send at least one input", "input", "empty_input");
        if (in[0].is_number_integer()) {
            out.tokens.push_back(token_array_read(in, "input", emb));  // one input of token ids
        } else {
            if (in.size() > max_inputs) {
                throw http_error(400,
                                 "input has " + std::to_string(in.size()) + " entries; at most " +
                                     std::to_string(max_inputs) + " per request — split it into several requests",
                                 "input", "too_many_inputs");
            }
            if (!in[0].is_string() && !in[0].is_array()) {
                throw http_error(400, std::string("input[0] is ") + in[0].type_name() + "; " + input_shapes, "input[0]",
                                 "invalid_type");
            }
            const bool strings = in[0].is_string();
            for (size_t i = 0; i < in.size(); ++i) {
                const json & e = in[i];
                if (strings && e.is_string()) {
                    out.tokens.push_back(text_read(e, input_param(i), emb));
                } else if (!strings && e.is_array()) {
                    out.tokens.push_back(token_array_read(e, input_param(i), emb));
                } else {
                    throw http_error(400,
                                     input_param(i) + " is " + std::string(e.type_name()) + " among " +
                                         (strings ? "strings" : "token-id arrays") + "; " + input_shapes +
                                         ", one kind per request",
                                     input_param(i), "invalid_type");
                }
            }
        }
    } else {
        throw http_error(400, std::string("input is ") + in.type_name() + "; " + input_shapes, "input", "invalid_type");
    }

    const int32_t n_ctx = emb.info().n_ctx;
    for (size_t i = 0; i < out.tokens.size(); ++i) {
        if ((int32_t)out.tokens[i].size() > n_ctx) {
            const std::string p = in.is_array() && !in[0].is_number_integer() ? input_param(i) : "input";
            throw http_error(400,
                             p + " has " + std::to_string(out.tokens[i].size()) +
                                 " tokens, over the embedding model's limit of " + std::to_string(n_ctx) +
                                 " per input; shorten or split it",
                             p, "context_length_exceeded");
        }
    }
    return out;
}

int32_t dimensions_read(const json & body, int32_t dims) {
    if (!body.contains("dimensions") || body["dimensions"].is_null())
        return dims;
    const json & d = body["dimensions"];
    if (!d.is_number_integer())
        throw http_error(400, "dimensions must be an integer", "dimensions", "invalid_type");
    const int64_t n = d.get<int64_t>();
    if (n < 1 || n > dims) {
        throw http_error(400,
                         "dimensions is " + std::to_string(n) + "; this embedding model gives vectors of " +
                             std::to_string(dims) + ", so ask for 1.." + std::to_string(dims),
                         "dimensions", "out_of_range");
    }
    return (int32_t)n;
}

// The first `n` components, scaled back to unit length (what OpenAI's `dimensions` does for
// its Matryoshka-trained models; for others it is still a valid, if lossier, vector).
void truncate_normalize(std::vector<float> & v, int32_t n) {
    if ((size_t)n >= v.size())
        return;
    v.resize((size_t)n);
    double sum = 0.0;
    for (float x : v)
        sum += (double)x * x;
    if (sum <= 0.0)
        return;
    const float inv = (float)(1.0 / std::sqrt(sum));
    for (float & x : v)
        x *= inv;
}

// Little-endian float32, whatever the host's byte order: what OpenAI's base64 encoding holds.
std::string vector_base64(const std::vector<float> & v) {
    std::string bytes(v.size() * 4, '\0');
    for (size_t i = 0; i < v.size(); ++i) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int b = 0; b < 4; ++b)
            bytes[i * 4 + (size_t)b] = (char)((u >> (8 * b)) & 0xff);
    }
    return base64_encode(bytes);
}

}  // namespace

void embeddings_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller &) {
    if (!st.embed) {
        throw http_error(404,
                         "this server has no embedding model; start it with `muse serve --embedding-model FILE.gguf` "
                         "(an embedding GGUF such as Qwen3-Embedding or bge)",
                         "model", "model_not_found");
    }
    embedder & emb  = *st.embed;
    const json body = body_json(req);
    if (!body.is_object())
        throw http_error(400, "the request body must be a JSON object", "", "invalid_type");

    const std::string model    = str_field(body, "model", "", false);
    const std::string encoding = str_field(body, "encoding_format", "", false);
    if (!encoding.empty() && encoding != "float" && encoding != "base64") {
        throw http_error(400, "encoding_format is '" + encoding + "'; use float or base64", "encoding_format",
                         "invalid_value");
    }
    const bool         base64 = encoding == "base64";
    const int32_t      dims   = dimensions_read(body, emb.dims());
    const embed_inputs in     = inputs_read(body, emb);

    int32_t                         n_tokens = 0;
    std::vector<std::vector<float>> vectors;
    try {
        vectors = emb.embed_tokens(in.tokens, &n_tokens);
    } catch (const input_error & e) {  // caught above already; kept as the boundary for the engine's checks
        throw http_error(400, e.what(), "input", "invalid_input");
    }

    json data = json::array();
    for (size_t i = 0; i < vectors.size(); ++i) {
        truncate_normalize(vectors[i], dims);
        data.push_back({ { "object", "embedding" },
                         { "index", (int64_t)i },
                         { "embedding", base64 ? json(vector_base64(vectors[i])) : json(vectors[i]) } });
    }
    const json out = { { "object", "list" },
                       { "data", std::move(data) },
                       { "model", model.empty() ? emb.info().name : model },
                       { "usage", { { "prompt_tokens", n_tokens }, { "total_tokens", n_tokens } } } };
    res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace muse::server
