# The seeing tools (read_text, crop_zoom, visual_grounding) on real stb, real tesseract and
# text Pillow renders at test time; the grounding schema through llama.cpp's own grammar.
muse_add_gtest(muse-vision-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/vision_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/vision_grammar.cpp
    LIBS muse-agent
    LABELS sanitize)
target_compile_definitions(muse-vision-tests PRIVATE MUSE_VISION_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
# vision_grammar.cpp alone sees json-schema-to-grammar.h (llama-common) and llama-grammar.h
# (llama's internal API, which its own grammar tests use): llama-common's include path holds
# another nlohmann/json. The library comes through muse-engine.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/vision_grammar.cpp PROPERTIES INCLUDE_DIRECTORIES
    "$<TARGET_PROPERTY:llama-common,INTERFACE_INCLUDE_DIRECTORIES>;${MUSE_LLAMA_CPP_DIR}/src")
