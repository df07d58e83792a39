#pragma once
// Turns generated pieces into output text that is safe to show: a stop string is cut out
// before it is ever shown (text that could be its beginning is held back), and an incomplete
// UTF-8 sequence at the end waits for the bytes that complete it.
#include <string>
#include <vector>

namespace muse {

class text_stream {
  public:
    void set_stops(std::vector<std::string> stops);

    // Appends `piece`; `out` receives the text that became final. True when a stop string
    // was found (the text from it on is dropped and the stream is over).
    bool push(const std::string & piece, std::string & out);

    // The text held back so far (at the end of generation).
    std::string flush();

  private:
    std::vector<std::string> stops_;
    std::string              held_;  // generated but not yet shown
};

// Bytes at the end of `s` that start a UTF-8 sequence but do not finish it.
size_t utf8_incomplete_tail(const std::string & s);

}  // namespace muse
