# The safety layer (src/safety): the policy file, text folding, guard prompts and verdicts, the
# guard on the tiny test models with verdicts forced by grammar, the streaming checks.
muse_add_gtest(muse-safety-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/safety/policy_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/safety/text_views_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/safety/guard_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/safety/stream_test.cpp
    LIBS muse-safety muse-engine)
target_include_directories(muse-safety-tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

# The red-team cases of the rule layer (tests/redteam/rules.jsonl) through the checker with the
# default policy and no guard; also under ASan+UBSan (label "sanitize").
muse_add_gtest(muse-redteam-rules-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/redteam/rules_test.cpp
    LIBS muse-safety nlohmann_json::nlohmann_json
    LABELS sanitize)
target_compile_definitions(muse-redteam-rules-tests PRIVATE MUSE_REDTEAM_RULES="${CMAKE_CURRENT_SOURCE_DIR}/redteam/rules.jsonl")
