# The red-team suite (tests/redteam/). Tool abuse: the python tool on real bubblewrap beside a
# real store, a hostile MCP server (fixtures/hostile-mcp-server.mjs, plain node), a loopback page,
# an uploaded file and a picture of text (fixtures/injection*, also for the safety checks), and
# artifacts served by a real muse serve (tool-abuse.test.mjs). No network.
set(MUSE_REDTEAM_DIR ${CMAKE_CURRENT_LIST_DIR})
pkg_check_modules(REDTEAM_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
muse_add_gtest(muse-redteam-tests
    ${MUSE_REDTEAM_DIR}/tool_abuse_test.cpp
    LIBS muse-agent PkgConfig::REDTEAM_HTTPLIB Threads::Threads
    LABELS sanitize)
target_include_directories(muse-redteam-tests PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/tests/agent)
target_compile_definitions(muse-redteam-tests PRIVATE MUSE_REDTEAM_FIXTURES="${MUSE_REDTEAM_DIR}/fixtures")

# Artifacts that try to exfiltrate, through a real muse serve (node's test runner, tests/server/harness.mjs).
add_test(NAME redteam.tool_abuse COMMAND node --test ${MUSE_REDTEAM_DIR}/tool-abuse.test.mjs)
set_tests_properties(redteam.tool_abuse PROPERTIES TIMEOUT 600 RESOURCE_LOCK muse_server
    ENVIRONMENT "MUSE_BIN=$<TARGET_FILE:muse>;MUSE_TEST_MODELS_DIR=${MUSE_TEST_MODELS_DIR};OMP_WAIT_POLICY=PASSIVE")
