#include "arith-vocab.h"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gguf.h"
#include "llama.h"

namespace muse::tools {

namespace {

// SentencePiece writes a space as U+2581.
const std::string k_space = "\xE2\x96\x81";

// Text whose words become pieces: the fixed text of Qwen3's template with tools, the words of
// muse's python tool definition (src/agent/tools/python.cpp) and of the task suite's questions
// (src/train/tasks.cpp). A word missing here still tokenizes, only into more pieces.
const char * const k_corpus =
    "system user assistant tool "
    "# Tools You may call one or more functions to assist with the user query. "
    "You are provided with function signatures within XML tags: "
    "For each function call, return a json object with function name and arguments within XML tags: "
    "function-name args-json-object "
    "type function name description parameters properties required object string code "
    "Runs Python code in a sandbox and returns what it prints. Each call starts a fresh python process: "
    "variables and imports do not carry over, but files in /mnt/data (the working directory) persist for the "
    "whole conversation, so save results there to use them in a later call. The user's uploaded files are in "
    "/mnt/data. Available packages: numpy, pandas, matplotlib, scipy, scikit-learn, Pillow, OpenCV (cv) and "
    "the standard library; nothing can be installed and there is no network. print() output (stdout, then "
    "stderr with any traceback) is returned, capped at KiB. Figures shown with plt.show() (and figures still "
    "open at the end) come back as images. Limits: s per call, MiB GiB of memory. "
    "The complete Python program to run; print() what you want to see. Working directory: "
    "What is How much many Compute Calculate Work out Find "
    "has have had buys gets finds more gives away eats sells loses left now total each in all "
    "apples books coins stamps cards marbles pens boxes bags shelves rows "
    "Ann Ben Cleo Dev Eva Finn Gus Hana Ivo Jay Kim Lea Max Nia Omar Pia "
    "She He They There are is with of and the a an "
    "answer carry borrow times plus minus product sum difference use python big "
    "print true false null";

std::string text_file_read(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("missing chat template " + path.string() +
                                 "; pass --llama-cpp DIR pointing at a llama.cpp source tree");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool has_digit(const std::string & s) {
    for (char c : s) {
        if (c >= '0' && c <= '9') return true;
    }
    return false;
}

// Every prefix of every word, with and without the leading space piece: SentencePiece merges
// two adjacent pieces only into a piece of the vocabulary, so a word needs its whole chain.
std::set<std::string> word_pieces() {
    std::set<std::string> pieces;
    std::istringstream    words(k_corpus);
    std::string           w;
    while (words >> w) {
        if (has_digit(w)) continue;
        for (const std::string & form : { w, k_space + w }) {
            const size_t first = form.rfind(k_space, 0) == 0 ? k_space.size() : 0;
            for (size_t n = first + 2; n <= form.size(); n++) pieces.insert(form.substr(0, n));
        }
    }
    return pieces;
}

}  // namespace

gguf_context_ptr arith_vocab_build(const std::filesystem::path & template_file) {
    std::vector<std::string> tokens;
    std::vector<float>       scores;
    std::vector<int32_t>     types;
    const auto add = [&](const std::string & text, float score, llama_token_type type) {
        tokens.push_back(text);
        scores.push_back(score);
        types.push_back(type);
    };
    add("<unk>", 0, LLAMA_TOKEN_TYPE_UNKNOWN);
    add("<s>", 0, LLAMA_TOKEN_TYPE_CONTROL);
    add("</s>", 0, LLAMA_TOKEN_TYPE_CONTROL);
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        add(name, 0, LLAMA_TOKEN_TYPE_BYTE);
    }
    // Qwen3's special tokens, typed as its converter types them.
    for (const char * t : { "<|im_start|>", "<|im_end|>", "<|endoftext|>" }) add(t, 0, LLAMA_TOKEN_TYPE_CONTROL);
    for (const char * t : { "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>" }) {
        add(t, 0, LLAMA_TOKEN_TYPE_USER_DEFINED);
    }
    // Single characters: the space piece, newline and printable ASCII.
    add(k_space, 1, LLAMA_TOKEN_TYPE_NORMAL);
    add("\n", 1, LLAMA_TOKEN_TYPE_NORMAL);
    add("\n\n", 2, LLAMA_TOKEN_TYPE_NORMAL);
    for (char c = 0x21; c < 0x7f; c++) add(std::string(1, c), 1, LLAMA_TOKEN_TYPE_NORMAL);
    // Longer pieces merge first.
    const std::set<std::string> have(tokens.begin(), tokens.end());
    for (const std::string & p : word_pieces()) {
        if (!have.count(p)) add(p, (float) p.size(), LLAMA_TOKEN_TYPE_NORMAL);
    }

    gguf_context_ptr vocab(gguf_init_empty());
    gguf_context *   v = vocab.get();
    gguf_set_val_str(v, "tokenizer.ggml.model", "llama");
    std::vector<const char *> ptrs;
    for (const auto & t : tokens) ptrs.push_back(t.c_str());
    gguf_set_arr_str(v, "tokenizer.ggml.tokens", ptrs.data(), ptrs.size());
    gguf_set_arr_data(v, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores.data(), scores.size());
    gguf_set_arr_data(v, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types.data(), types.size());
    const auto id = [&](const char * t) {
        for (size_t i = 0; i < tokens.size(); i++) {
            if (tokens[i] == t) return (uint32_t) i;
        }
        throw std::logic_error(std::string("arith vocab has no ") + t);
    };
    gguf_set_val_u32(v, "tokenizer.ggml.bos_token_id", id("<s>"));
    gguf_set_val_u32(v, "tokenizer.ggml.eos_token_id", id("<|im_end|>"));
    gguf_set_val_u32(v, "tokenizer.ggml.unknown_token_id", id("<unk>"));
    gguf_set_val_u32(v, "tokenizer.ggml.padding_token_id", id("<|endoftext|>"));
    gguf_set_val_bool(v, "tokenizer.ggml.add_bos_token", false);
    gguf_set_val_bool(v, "tokenizer.ggml.add_eos_token", false);
    gguf_set_val_bool(v, "tokenizer.ggml.add_space_prefix", false);
    gguf_set_val_str(v, "tokenizer.chat_template", text_file_read(template_file).c_str());
    return vocab;
}

}  // namespace muse::tools
