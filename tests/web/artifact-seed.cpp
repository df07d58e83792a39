// muse-artifact-seed DATA_DIR USER WORKSPACE ARTIFACT_ID HTML_FILE: adds a version of an
// artifact an agent made (the store's own artifact_put, as the artifacts tool does), for the
// web app's end-to-end test. Random weights write gibberish into a forced create_artifact call;
// the test needs a version whose script it knows, to see that script run in the app's sandboxed
// frame and fail to reach the app's cookie, its DOM and the API. Prints the new version.
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>

#include "store/database.h"

using namespace muse;

int main(int argc, char ** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: muse-artifact-seed DATA_DIR USER WORKSPACE ARTIFACT_ID HTML_FILE\n");
        return 2;
    }
    try {
        std::ifstream in(argv[5], std::ios::binary);
        if (!in) {
            fprintf(stderr, "muse-artifact-seed: cannot read %s\n", argv[5]);
            return 1;
        }
        const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        store::database   db(argv[1]);
        const auto        who = db.user_find(argv[2]);
        if (!who) {
            fprintf(stderr, "muse-artifact-seed: no user %s in %s\n", argv[2], argv[1]);
            return 1;
        }
        const auto a = db.artifact_put(who->id, argv[3], argv[4], "sandbox probe", "html", html);
        if (!a) {
            fprintf(stderr, "muse-artifact-seed: %s's workspace %s has no artifact %s\n", argv[2], argv[3], argv[4]);
            return 1;
        }
        printf("%d\n", a->version);
        return 0;
    } catch (const std::exception & e) {
        fprintf(stderr, "muse-artifact-seed: %s\n", e.what());
        return 1;
    }
}
