# Writes engine/build-version.h into the build folder: muse's version and git commit, the
# llama.cpp commit it builds on and which scripts/llama-cpp-patches that tree holds, all as
# found at configure time (re-run cmake to refresh them). Read by src/engine/system-info.cpp.
find_package(Git QUIET)

# HEAD of the repository whose top is `dir` ("" when there is none): a tree inside another
# repository (.deps/llama.cpp without its .git, inside muse's) must not answer with that one's.
function(muse_git_head dir git_args result)
    set(${result} "" PARENT_SCOPE)
    if (NOT GIT_FOUND)
        return()
    endif()
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${dir} rev-parse --show-toplevel
                    OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if (NOT rc EQUAL 0 OR NOT EXISTS "${top}")
        return()
    endif()
    file(REAL_PATH "${top}" top)
    file(REAL_PATH "${dir}" dir)
    if (NOT top STREQUAL dir)
        return()
    endif()
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${dir} rev-parse ${git_args} HEAD
                    OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if (rc EQUAL 0)
        set(${result} "${head}" PARENT_SCOPE)
    endif()
endfunction()

# muse_build_version_write(OUT_DIR): writes OUT_DIR/engine/build-version.h.
function(muse_build_version_write out_dir)
    muse_git_head("${PROJECT_SOURCE_DIR}" "--short" MUSE_GIT_COMMIT)

    # The pinned tree's commit is the pin file's, whatever its .git holds.
    set(MUSE_LLAMA_CPP_COMMIT "unknown")
    file(REAL_PATH "${MUSE_LLAMA_CPP_DIR}" llama_dir)
    file(REAL_PATH "${PROJECT_SOURCE_DIR}/.deps/llama.cpp" pinned_dir)
    set(pin "${PROJECT_SOURCE_DIR}/scripts/llama-cpp.pin")
    if (llama_dir STREQUAL pinned_dir AND EXISTS "${pin}")
        file(STRINGS "${pin}" line REGEX "^commit=")
        string(REPLACE "commit=" "" MUSE_LLAMA_CPP_COMMIT "${line}")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${pin}")
    else()
        muse_git_head("${llama_dir}" "" head)
        if (head)
            set(MUSE_LLAMA_CPP_COMMIT "${head}")
        endif()
    endif()

    # Each patch as scripts/setup.sh checks it: applied when it reverses cleanly.
    file(GLOB patches "${PROJECT_SOURCE_DIR}/scripts/llama-cpp-patches/*.patch")
    list(SORT patches)
    set(MUSE_LLAMA_CPP_PATCHES "")
    foreach(patch ${patches})
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${patch}")
        get_filename_component(name "${patch}" NAME_WLE)
        set(applied -1)
        if (GIT_FOUND)
            execute_process(COMMAND ${GIT_EXECUTABLE} -C ${llama_dir} apply --reverse --check ${patch}
                            RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
            if (rc EQUAL 0)
                set(applied 1)
            else()
                set(applied 0)
            endif()
        endif()
        string(APPEND MUSE_LLAMA_CPP_PATCHES "{ \"${name}\", ${applied} }, ")
    endforeach()

    set(MUSE_VERSION "${PROJECT_VERSION}")
    configure_file("${PROJECT_SOURCE_DIR}/src/engine/build-version.h.in" "${out_dir}/engine/build-version.h" @ONLY)
endfunction()
