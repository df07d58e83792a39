# llama.cpp's own CMake builds ggml-cpu, llama, llama-common and mtmd as static libraries
# inside muse's build; its tools and tests stay out of the default build.
set(BUILD_SHARED_LIBS     OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_COMMON    ON  CACHE BOOL "" FORCE)
set(LLAMA_BUILD_MTMD      ON  CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TESTS     OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_TOOLS     OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_EXAMPLES  OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_SERVER    OFF CACHE BOOL "" FORCE)
set(LLAMA_BUILD_APP       OFF CACHE BOOL "" FORCE)
set(LLAMA_OPENSSL         OFF CACHE BOOL "" FORCE)
set(LLAMA_SUBPROCESS      OFF CACHE BOOL "" FORCE)
set(LLAMA_ALL_WARNINGS    OFF CACHE BOOL "" FORCE)
set(MTMD_VIDEO            OFF CACHE BOOL "" FORCE)
if (MUSE_PORTABLE)
    set(GGML_NATIVE OFF CACHE BOOL "" FORCE)
else()
    set(GGML_NATIVE ON  CACHE BOOL "" FORCE)
endif()

# llama.cpp puts executables in <build>/bin; muse keeps that layout.
add_subdirectory(${MUSE_LLAMA_CPP_DIR} llama.cpp)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

# llama-common links llama.cpp's vendored cpp-httplib (0.57) for model downloads muse never
# calls. As a static library it would hand that copy to every muse binary, where the linker
# takes httplib symbols from whichever archive comes first: muse-server's own calls then went
# to the vendored code compiled against a different class layout than Debian's cpp-httplib
# 0.11 (a crash in Server::set_error_handler). Dropped from llama-common's link interface; the
# llama.cpp tools that need it (the bench anchors) link it themselves, and a test checks that
# the muse binary holds no vendored httplib.
get_target_property(muse_llama_common_libs llama-common INTERFACE_LINK_LIBRARIES)
list(FILTER muse_llama_common_libs EXCLUDE REGEX "cpp-httplib")
set_target_properties(llama-common PROPERTIES INTERFACE_LINK_LIBRARIES "${muse_llama_common_libs}")

# The sanitizer build instruments the parts that read untrusted bytes: ggml-base (the GGUF
# parser), llama (the model loader and tokenizer) and mtmd (projectors, image and audio
# decoding), plus all of muse. ggml-cpu's kernels and llama-common stay uninstrumented: they
# are the slowest to compile with ASan (a whole-tree ASan build took over 40 minutes on 2
# cores) and their objects then match the release tree's, so ccache serves them.
if (MUSE_SANITIZE)
    set(MUSE_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    foreach(target ggml-base llama mtmd)
        target_compile_options(${target} PRIVATE ${MUSE_SANITIZE_FLAGS})
    endforeach()
endif()
