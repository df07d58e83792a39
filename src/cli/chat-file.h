#pragma once
// A `muse chat` conversation as a JSON file (/save, /load): an array of messages, each with
// its role, content, reasoning, tool calls, and the paths of the images and audio it carried.
//   [{"role": "user", "content": "What is this?", "media": ["/home/me/pic.png"]},
//    {"role": "assistant", "content": "A cat.", "reasoning_content": "..."}]
// Media are kept by path, not by value: a saved chat stays small, and /load reads them again.
#include "engine/chat-prompt.h"

#include <string>
#include <vector>

namespace muse::cli {

// The messages' media parts index into `media_paths`; in a message, media come before text.
struct chat_file {
    std::vector<chat_message> messages;
    std::vector<std::string>  media_paths;
    std::vector<std::string>  warnings;  // what was loaded but could not be restored in full
};

// Writes through a temporary file, so that a failed save leaves an older file as it was.
// Relative media paths are saved as absolute ones. Throws input_error naming `path`.
void chat_file_save(const std::string & path, const chat_file & chat);

// Reads a file chat_file_save wrote. Throws input_error naming `path`, the message and the
// problem; the media files are not opened here.
chat_file chat_file_load(const std::string & path);

}  // namespace muse::cli
