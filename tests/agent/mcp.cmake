# The MCP client's tests (tests/agent/mcp_test.cpp): real servers from npm (server-everything
# over stdio and Streamable HTTP, server-filesystem) run with node from the repo root's
# node_modules (scripts/setup.sh runs npm ci), and a misbehaving fixture server
# (mcp-fixtures/misbehaving-server.mjs). No network.
muse_add_gtest(muse-mcp-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/mcp_test.cpp
    LIBS muse-agent-mcp
    LABELS sanitize)
target_compile_definitions(muse-mcp-tests PRIVATE MUSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
