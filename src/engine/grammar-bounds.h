#pragma once
// Engine-internal: bounds llama-common's generated grammars so that what they allow always
// ends and always parses. A grammar that lets a weak model write forever (a tool name of any
// length, a parameter text with no end in sight) or a number no double holds
// (424431813975446E5554405626054505: JSON.parse gives Infinity) is a request that never
// finishes or an answer no client accepts.
#include "engine/chat-prompt.h"

#include <string>
#include <vector>

namespace muse {

// Numbers: exponents of at most 2 digits, integral parts of at most 15 digits — every number
// the grammar allows is a finite double, and every integer is exact in a double (JavaScript's
// safe integers, below 2^53; llama-common allowed 16 digits, which JSON.parse rounds) and so
// fits int64 (llama-common's `number`, `integer` and `json-number` rules).
std::string grammar_numbers_bounded(const std::string & grammar);

// tool_choice "required" means the answer is tool calls. llama-common's tool grammars still let
// free text (and Muse Glimmer's reasoning turns) come first; with weak weights that text runs
// to max_tokens without a call. The root rule loses those optional prefixes; one reasoning
// message stays when thinking is on (each new one would get a fresh thinking budget).
std::string grammar_calls_only(const std::string & grammar, bool keep_reasoning);

// Muse Glimmer's ATEM calls: the recipient after " to=" is the called function's name (the
// template writes ` to=NAME<|message|>`; llama-common allows any text), a string parameter
// with a maxLength in its schema is at most that long, and a call names each of its
// parameters at most once.
std::string grammar_atem_bounded(const std::string & grammar, const std::vector<chat_tool> & tools);

// Parallel calls: at most `max_calls` in one answer (llama-common allows any number; a weak
// model repeats calls until max_tokens; 1 when parallel calls are off). Qwen3-style grammars, which allow
// both a call per <tool_call> block (the template's form) and comma-separated calls inside
// one, keep the template's form only.
inline constexpr int max_parallel_tool_calls = 8;
std::string grammar_calls_bounded(const std::string & grammar, int max_calls = max_parallel_tool_calls);

// The reasoning tags as the tokens the budget sampler watches for: a grammar's literal
// "<think>" may be written as "<" "think" ">", which llama-common's budget never sees begin
// (nor end), so under a grammar the budget did not hold (296 reasoning tokens against 16).
// Each tag's literal becomes its token sequence, <[id]> ... (GBNF token references).
struct grammar_tag {
    std::string          text;
    std::vector<int32_t> tokens;
};
std::string grammar_tags_as_tokens(const std::string & grammar, const std::vector<grammar_tag> & tags);

}  // namespace muse
