#pragma once
// Chat formatting through the model's own jinja template (llama-common), and parsing of the
// generated text back into reasoning, content and tool calls with llama-common's parsers
// (this covers Muse Glimmer's ATEM tool format and its to=self reasoning channel).
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace muse {

class model;

enum chat_part_type {
    CHAT_PART_TYPE_TEXT,
    CHAT_PART_TYPE_MEDIA,  // an image or audio clip; `media_index` points into the request's media list
};

struct chat_part {
    chat_part_type type        = CHAT_PART_TYPE_TEXT;
    std::string    text;
    size_t         media_index = 0;
};

struct chat_tool_call {
    std::string id;
    std::string name;
    std::string arguments;  // JSON text
};

struct chat_message {
    std::string                 role;  // system, user, assistant, tool
    std::string                 content;
    std::vector<chat_part>      parts;  // when non-empty, used instead of `content`
    std::string                 reasoning;
    std::vector<chat_tool_call> tool_calls;
    std::string                 tool_call_id;
    std::string                 tool_name;
};

struct chat_tool {
    std::string name;
    std::string description;
    std::string parameters;  // JSON schema text
};

enum chat_tool_choice {
    CHAT_TOOL_CHOICE_AUTO,
    CHAT_TOOL_CHOICE_NONE,
    CHAT_TOOL_CHOICE_REQUIRED,
};

struct chat_request {
    std::vector<chat_message> messages;
    std::vector<chat_tool>    tools;
    chat_tool_choice          tool_choice         = CHAT_TOOL_CHOICE_AUTO;
    bool                      parallel_tool_calls = false;
    std::string               json_schema;    // constrain the answer to this JSON schema
    std::string               grammar;        // or to this GBNF grammar
    bool                      enable_thinking = true;
    int32_t                   think_budget    = -1;  // reasoning tokens before the end of reasoning is forced; -1: none
    // Continue the last (assistant) message instead of starting a new one: its reasoning
    // and content are a prefix the model goes on from.
    bool                      continue_final  = false;
    // Extra variables for the chat template by name, each a JSON value (llama-server's
    // chat_template_kwargs). Templates that state today's date read it from one: Muse Glimmer
    // from current_date ("2026-01-31"), Llama 3 from date_string ("31 Jan 2026").
    std::map<std::string, std::string> template_kwargs;
};

// A formatted prompt and everything the sampler and the parser need to go with it.
class chat_prompt {
  public:
    chat_prompt();
    ~chat_prompt();
    chat_prompt(chat_prompt &&) noexcept;
    chat_prompt & operator=(chat_prompt &&) noexcept;

    chat_prompt clone() const;
    const std::string & text() const;            // with the model's media marker where media goes
    bool                has_grammar() const;
    // The GBNF the answer is constrained to (empty: none), and whether it applies from the
    // first generated token (a schema on a template without its own response-format rule,
    // a user grammar) rather than after the generation prompt or a trigger.
    const std::string & grammar() const;
    bool                grammar_from_first_token() const;
    bool                supports_thinking() const;
    // The reasoning channel's delimiters in generated text ("<think>", "</think>"); empty
    // when the template has none.
    const std::string &              thinking_start() const;
    const std::vector<std::string> & thinking_end() const;
    // What the template put after the last message to start the assistant's turn.
    const std::string &              generation_prompt() const;

    struct impl;
    impl &       get() { return *impl_; }
    const impl & get() const { return *impl_; }

  private:
    std::unique_ptr<impl> impl_;
};

// A JSON schema or a forced tool call with thinking on and no budget: the reasoning gets half
// of max_tokens (at most 1024; 256 when max_tokens is unlimited), leaving the constrained
// answer the rest. Without a budget a weak model reasoned until max_tokens and returned no
// JSON at all. Does nothing when a budget was given, thinking is off, or nothing constrains.
void think_budget_for_constraints(chat_request & request, int32_t max_tokens);

// Renders `request` with the model's template. Throws input_error for what the template or
// the request cannot do (tools on a template without them, a bad schema, a bad role).
chat_prompt chat_format(const model & mdl, const chat_request & request, const std::string & media_marker);

struct chat_parsed {
    std::string                 content;
    std::string                 reasoning;
    std::vector<chat_tool_call> tool_calls;
};

// Splits generated text into reasoning, content and tool calls. `is_partial` while streaming.
chat_parsed chat_parse(const chat_prompt & prompt, const std::string & generated, bool is_partial);

}  // namespace muse
