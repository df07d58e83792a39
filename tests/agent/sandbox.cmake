# The bubblewrap sandbox and the python tool on the real bwrap and /usr/bin/python3: each escape
# attempt (files, network, /proc, processes left behind, fork bomb, memory, output, time) must
# stay contained, with this process fine afterwards. No network.
muse_add_gtest(muse-sandbox-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/sandbox_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/python_tool_test.cpp
    LIBS muse-agent-sandbox
    LABELS sanitize)
