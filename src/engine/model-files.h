#pragma once
// Models by name: the folder `muse pull` writes into, a name's .gguf and its projector there,
// and what each pulled model is, read from its metadata without loading its weights.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace muse {

class backend;

// $MUSE_MODELS_DIR, else ~/.local/share/muse/models.
std::filesystem::path models_dir_default();

struct model_files {
    std::string model;
    std::string mmproj;           // "" for none
    bool        by_name = false;  // found in the models dir, not given as a path
};

// `given` as a path when a file is there; otherwise a name in `dir` (NAME or NAME.gguf; an empty
// `dir`: models_dir_default()), with
// its projector (see projector_find) unless `mmproj` names one. A name found nowhere is an
// input_error that says where muse looked and how to get the model.
model_files model_files_resolve(const std::string & given, const std::string & mmproj,
                                const std::filesystem::path & dir = {});

// The projector published beside a model file: STEM-mmproj.gguf, STEM.mmproj.gguf,
// mmproj-STEM.gguf, else the only *mmproj* file whose name holds STEM. "" when none or several.
std::string projector_find(const std::filesystem::path & model_path);

struct model_entry {
    std::string name;    // the file name without .gguf: what -m takes
    std::string path;
    std::string mmproj;  // "" for none
    uint64_t    bytes = 0;         // on disk, the projector's included
};

// The models in `dir` (projectors and unfinished downloads left out), by name.
std::vector<model_entry> models_list(const std::filesystem::path & dir);

struct model_summary {
    std::string arch;         // general.architecture
    std::string description;  // "0.6B Q8_0": parameters and the type of most of the weights
    int32_t     n_ctx_train = 0;
    bool        vision = false, audio = false, tools = false, reasoning = false;
    bool        embedding = false;  // a pooled embedding model (<arch>.pooling_type), not a chat model
};

// Reads the model's metadata and vocabulary (not its weights) and its projector's metadata.
model_summary model_summary_read(backend & be, const model_entry & entry);

}  // namespace muse
