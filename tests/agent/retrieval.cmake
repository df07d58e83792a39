# file_search, remember and forget called directly on a real store (SQLite in a temp dir), with
# a deterministic embedder standing in for the model so the vector path runs too.
muse_add_gtest(muse-retrieval-tool-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/retrieval_tools_test.cpp
    LIBS muse-agent muse-store)
target_include_directories(muse-retrieval-tool-tests PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/tests/store)
