// Fuzz target: a GGUF file dropped into the models folder, as `muse list`, `muse info` and
// every model load see it before llama.cpp loads weights: gguf_file_check (muse's own
// pre-check), models_list (which reads general.architecture to skip projectors) and
// model_summary_read (the vocabulary-only load, the tensor directory, the template's
// capabilities). The bytes are written to a temporary file, since all of these take a path.
#include "engine/error.h"
#include "engine/model-files.h"
#include "fuzz-util.h"

using namespace muse;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    fuzz::fuzz_backend();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static fuzz::fuzz_temp_file file("fuzz.gguf");
    file.write(data, size);
    try {
        gguf_file_check(file.path().string(), "model");
    } catch (const input_error &) {
        return 0;
    }
    for (const model_entry & entry : models_list(file.dir())) {
        try {
            (void) model_summary_read(fuzz::fuzz_backend(), entry);
        } catch (const input_error &) {
        }
    }
    return 0;
}
