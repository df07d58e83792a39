#include "train/tasks.h"

#include "engine/error.h"

#include <algorithm>
#include <set>

namespace muse::train {

namespace {

std::vector<int> digits_of(uint64_t v) {  // least significant first
    std::vector<int> d;
    do {
        d.push_back((int) (v % 10));
        v /= 10;
    } while (v > 0);
    return d;
}

uint64_t number_with_digits(std::mt19937_64 & rng, int n) {
    uint64_t lo = 1;
    for (int i = 1; i < n; i++) lo *= 10;
    const uint64_t hi = n == 1 ? 9 : lo * 10 - 1;
    if (n == 1) lo = 0;
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}

int pick(std::mt19937_64 & rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

template <typename T, size_t N> const T & pick_of(std::mt19937_64 & rng, const T (&xs)[N]) {
    return xs[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

const char * const k_names[]   = { "Ann", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gus", "Hana",
                                   "Ivo", "Jay", "Kim", "Lea", "Max", "Nia", "Omar", "Pia" };
const char * const k_things[]  = { "apples", "books", "coins", "stamps", "cards", "marbles", "pens" };
const char * const k_holders[] = { "boxes", "bags", "shelves", "rows" };

std::string arith_question(std::mt19937_64 & rng, const std::string & expr) {
    switch (pick(rng, 0, 3)) {
        case 0: return "What is " + expr + "?";
        case 1: return "Compute " + expr + ".";
        case 2: return expr + " = ?";
        default: return "Work out " + expr + ".";
    }
}

// Digit counts per split: training covers 2..8 digits, leaning to the short ones; the easy
// held-out split asks 2..5, the hard one 6..8.
int operand_digits(task_split split, std::mt19937_64 & rng) {
    switch (split) {
        case TASK_SPLIT_EASY: return pick(rng, 2, 5);
        case TASK_SPLIT_HARD: return pick(rng, 6, 8);
        default: return pick(rng, 0, 9) < 7 ? pick(rng, 2, 5) : pick(rng, 6, 8);
    }
}

}  // namespace

const char * task_kind_name(task_kind k) {
    switch (k) {
        case TASK_KIND_ADD: return "add";
        case TASK_KIND_SUB: return "sub";
        case TASK_KIND_MUL: return "mul";
        case TASK_KIND_WORD: return "word";
        case TASK_KIND_PRODUCT: return "product";
    }
    return "?";
}

task_split task_split_parse(const std::string & name) {
    for (task_split s : { TASK_SPLIT_TRAIN, TASK_SPLIT_EASY, TASK_SPLIT_HARD, TASK_SPLIT_TOOL }) {
        if (name == task_split_name(s)) return s;
    }
    throw input_error("unknown task split '" + name + "': choose train, easy, hard or tool");
}

const char * task_split_name(task_split s) {
    switch (s) {
        case TASK_SPLIT_TRAIN: return "train";
        case TASK_SPLIT_EASY: return "easy";
        case TASK_SPLIT_HARD: return "hard";
        case TASK_SPLIT_TOOL: return "tool";
    }
    return "?";
}

bool task_held_out(const std::string & question) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : question) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return (h >> 29) % 8 == 0;
}

// The traces work one column at a time, and every digit a step needs sits next to it: a line
// restates what is left of the operands ("473+295": the digits not yet used), the step below
// takes their last digits and the carry of the step above, and ends with the result so far
// (its new digit in front of the one above). A 4-layer model never has to find "the third
// digit from the right" of a number far back, which it failed to learn (docs/eval.md).
namespace {

std::string rest_of(const std::vector<int> & d, size_t from) {  // digits from..end, most significant first
    if (from >= d.size()) return "0";
    std::string out;
    for (size_t i = d.size(); i-- > from;) out += (char) ('0' + d[i]);
    return out;
}

std::string without_leading_zeros(const std::string & r) {
    const size_t nz = r.find_first_not_of('0');
    return nz == std::string::npos ? "0" : r.substr(nz);
}

}  // namespace

// "4738+2956", "8+6=14 4", "473+295", "3+5+1=9 94", ..., "4+2+1=7 7694", "7694".
std::string trace_add(uint64_t a, uint64_t b) {
    const auto   da = digits_of(a), db = digits_of(b);
    const size_t n  = std::max(da.size(), db.size());
    std::string  t, r;
    int          carry = 0;
    for (size_t i = 0; i < n; i++) {
        const int x = i < da.size() ? da[i] : 0, y = i < db.size() ? db[i] : 0;
        const int s = x + y + carry;
        r = (i + 1 == n ? std::to_string(s) : std::string(1, (char) ('0' + s % 10))) + r;
        t += rest_of(da, i) + "+" + rest_of(db, i) + "\n" + std::to_string(x) + "+" + std::to_string(y) +
             (carry ? "+1" : "") + "=" + std::to_string(s) + " " + r + "\n";
        carry = s / 10;
    }
    return t + std::to_string(a + b);
}

// "4738-2956", "8-6=2 2", "473-295", "13-5=8 82" (borrows ten), "47-29", "17-9-1=7 782" (pays
// it back), ..., "1782"; the result so far keeps its zeros, the answer drops them.
std::string trace_sub(uint64_t a, uint64_t b) {
    const auto  da = digits_of(a), db = digits_of(b);
    std::string t, r;
    int         borrow = 0;
    for (size_t i = 0; i < da.size(); i++) {
        const int x = da[i], y = i < db.size() ? db[i] : 0;
        int       v   = x - y - borrow;
        const int out = v < 0 ? 1 : 0;
        if (v < 0) v += 10;
        r = std::string(1, (char) ('0' + v)) + r;
        t += rest_of(da, i) + "-" + rest_of(db, i) + "\n" + (out ? "1" : "") + std::to_string(x) + "-" +
             std::to_string(y) + (borrow ? "-1" : "") + "=" + std::to_string(v) + " " + r + "\n";
        borrow = out;
    }
    return t + without_leading_zeros(r);
}

// "4738*6", "8*6=48 8", "473*6", "3*6+4=22 28", ..., "4*6+4=28 28428", "28428".
std::string trace_mul(uint64_t a, uint64_t d) {
    const auto  da = digits_of(a);
    std::string t, r;
    int         carry = 0;
    for (size_t i = 0; i < da.size(); i++) {
        const int p = da[i] * (int) d + carry;
        r = (i + 1 == da.size() ? std::to_string(p) : std::string(1, (char) ('0' + p % 10))) + r;
        t += rest_of(da, i) + "*" + std::to_string(d) + "\n" + std::to_string(da[i]) + "*" + std::to_string(d) +
             (carry ? "+" + std::to_string(carry) : "") + "=" + std::to_string(p) + " " + r + "\n";
        carry = p / 10;
    }
    return t + without_leading_zeros(r);
}

task_generator::task_generator(task_split split, uint64_t seed) : split_(split), rng_(seed ^ 0x6d7573652d617269ull) {}

task_item task_generator::next() {
    const bool want_held_out = split_ != TASK_SPLIT_TRAIN;
    for (;;) {
        task_item it = draw();
        if (task_held_out(it.question) == want_held_out) return it;
    }
}

task_item task_generator::draw() {
    task_item it;
    if (split_ == TASK_SPLIT_TOOL || (split_ == TASK_SPLIT_TRAIN && pick(rng_, 0, 9) == 0)) {
        const int      na = pick(rng_, 4, 6), nb = pick(rng_, 4, 6);
        const uint64_t a = number_with_digits(rng_, na), b = number_with_digits(rng_, nb);
        it.kind      = TASK_KIND_PRODUCT;
        it.digits    = std::max(na, nb);
        it.question  = arith_question(rng_, std::to_string(a) + " * " + std::to_string(b));
        it.tool_code = "print(" + std::to_string(a) + " * " + std::to_string(b) + ")";
        it.answer    = std::to_string(a * b);
        return it;
    }
    const int r = pick(rng_, 0, 9);
    it.kind     = r < 3 ? TASK_KIND_ADD : r < 6 ? TASK_KIND_SUB : r < 8 ? TASK_KIND_MUL : TASK_KIND_WORD;
    task_kind op = it.kind;
    if (op == TASK_KIND_WORD) op = (task_kind) pick(rng_, TASK_KIND_ADD, TASK_KIND_MUL);
    int n = operand_digits(split_, rng_);
    if (it.kind == TASK_KIND_WORD) n = std::min(n, split_ == TASK_SPLIT_HARD ? 6 : 3);
    it.digits = n;
    uint64_t a = number_with_digits(rng_, n);
    uint64_t b = op == TASK_KIND_MUL ? (uint64_t) pick(rng_, 2, 9) : number_with_digits(rng_, pick(rng_, std::max(1, n - 2), n));
    if (op == TASK_KIND_SUB && b > a) std::swap(a, b);
    const std::string sa = std::to_string(a), sb = std::to_string(b);
    const char        sym = op == TASK_KIND_ADD ? '+' : op == TASK_KIND_SUB ? '-' : '*';
    const std::string expr = sa + " " + sym + " " + sb;
    const std::string steps = op == TASK_KIND_ADD ? trace_add(a, b) : op == TASK_KIND_SUB ? trace_sub(a, b) : trace_mul(a, b);
    it.answer = op == TASK_KIND_ADD ? std::to_string(a + b) : op == TASK_KIND_SUB ? std::to_string(a - b) : std::to_string(a * b);
    if (it.kind != TASK_KIND_WORD) {
        it.question  = arith_question(rng_, expr);
        it.reasoning = steps;
        return it;
    }
    const std::string who = pick_of(rng_, k_names), what = pick_of(rng_, k_things);
    if (op == TASK_KIND_ADD) {
        it.question = who + " has " + sa + " " + what + " and buys " + sb + " more. How many " + what + " does " + who +
                      " have now?";
    } else if (op == TASK_KIND_SUB) {
        it.question = who + " has " + sa + " " + what + " and gives away " + sb + ". How many " + what + " are left?";
    } else {
        const std::string holder = pick_of(rng_, k_holders);
        it.question = "There are " + sb + " " + holder + " with " + sa + " " + what + " each. How many " + what +
                      " are there in all?";
    }
    it.reasoning = steps;  // its first line restates the sum the words ask for
    return it;
}

std::vector<task_item> task_suite(task_split split, uint64_t seed, size_t n) {
    task_generator         gen(split, seed);
    std::vector<task_item> out;
    std::set<std::string>  seen;
    for (size_t tries = 0; out.size() < n && tries < n * 50; tries++) {
        task_item it = gen.next();
        if (seen.insert(it.question).second) out.push_back(std::move(it));
    }
    return out;
}

}  // namespace muse::train
