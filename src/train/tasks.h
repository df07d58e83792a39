#pragma once
// The synthetic task suite muse-arith learns from and is measured on: multi-digit addition,
// subtraction and multiplication and short word problems, each with a step-by-step trace for
// the reasoning channel and a checkable answer, plus big products that are solved by calling
// the python tool. Everything is drawn from a seed, so a suite is reproducible.
//
// Train and held-out items never overlap, whatever the seeds: a question belongs to the
// held-out side when a hash of its text says so (task_held_out), and each side draws only its own.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace muse::train {

enum task_kind {
    TASK_KIND_ADD,
    TASK_KIND_SUB,
    TASK_KIND_MUL,      // a multi-digit number times a one-digit one
    TASK_KIND_WORD,     // a word problem over one of the three above
    TASK_KIND_PRODUCT,  // two big numbers: the python tool's job
};
const char * task_kind_name(task_kind k);

struct task_item {
    task_kind   kind = TASK_KIND_ADD;
    int         digits = 0;   // of the longer operand
    std::string question;
    std::string reasoning;    // the trace, one step per line; empty for a tool item
    std::string answer;       // the final answer, digits only
    std::string tool_code;    // TASK_KIND_PRODUCT: the program the model writes
};

enum task_split {
    TASK_SPLIT_TRAIN,  // what training draws
    TASK_SPLIT_EASY,   // held out, the digit counts training saw most
    TASK_SPLIT_HARD,   // held out, more digits: single answers often wrong
    TASK_SPLIT_TOOL,   // held out big products
};
task_split  task_split_parse(const std::string & name);  // throws input_error naming the choices
const char * task_split_name(task_split s);

// True for the questions reserved for evaluation (about one in eight).
bool task_held_out(const std::string & question);

// The step-by-step traces, also used by tests.
std::string trace_add(uint64_t a, uint64_t b);
std::string trace_sub(uint64_t a, uint64_t b);  // a >= b
std::string trace_mul(uint64_t a, uint64_t d);  // d in 1..9

class task_generator {
  public:
    task_generator(task_split split, uint64_t seed);
    // The next item of the split (never one of the other side's questions).
    task_item next();

  private:
    task_item draw();
    task_split   split_;
    std::mt19937_64 rng_;
};

// `n` items of a split; questions are distinct.
std::vector<task_item> task_suite(task_split split, uint64_t seed, size_t n);

}  // namespace muse::train
