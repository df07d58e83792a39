# The web tools (tests/agent/web_test.cpp, web_extract_test.cpp): real HTTP servers on
# 127.0.0.1 (Debian's cpp-httplib) allowed by host:port, the SSRF guard's refusals, the limits,
# SearXNG's JSON format, and HTML/PDF to text on hostile bytes. No network.
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEB_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
muse_add_gtest(muse-web-tests
    ${CMAKE_CURRENT_SOURCE_DIR}/web_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/web_extract_test.cpp
    LIBS muse-agent-web PkgConfig::WEB_HTTPLIB Threads::Threads
    LABELS sanitize)
target_include_directories(muse-web-tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)
