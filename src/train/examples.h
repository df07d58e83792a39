#pragma once
// A task item as the text a model is trained on: the conversation rendered by the model's own
// chat template, exactly as muse renders it at inference (engine/chat-prompt), with the
// assistant's turn written out: the reasoning trace in the template's reasoning channel, a
// call of the python tool where the item is a big product, and the final answer.
#include "engine/chat-prompt.h"
#include "train/tasks.h"

#include <map>
#include <random>
#include <string>
#include <utility>

namespace muse {
class model;
}

namespace muse::train {

enum example_style {
    EXAMPLE_STYLE_THINKING,  // reasoning trace, then the answer
    EXAMPLE_STYLE_INSTANT,   // thinking switched off: the answer alone
};

// The style an item is written in: a product thinks (its tool call is made while thinking);
// any other item answers without reasoning with probability `instant_share`, drawn from `rng`.
example_style example_style_draw(const task_item & item, double instant_share, std::mt19937_64 & rng);

// The request muse sends for `item` (one user message; the python tool for a product item).
chat_request example_request(const task_item & item, example_style style, const chat_tool & python);

// Writes items as training text: the whole conversation, ending with the template's end of
// turn. That end is rendered once per kind of request (it costs two template renders).
class example_writer {
  public:
    example_writer(const model & mdl, chat_tool python);
    std::string text(const task_item & item, example_style style);

  private:
    const model &                       mdl_;
    chat_tool                           python_;
    std::map<std::pair<bool, bool>, std::string> ends_;  // (thinking, tools) -> end of turn
};

}  // namespace muse::train
