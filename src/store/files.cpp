// Uploaded files: the bytes under <data dir>/files/<user id>/<file id>, the metadata in the
// database. Bytes are written to a temporary name, synced and renamed before the row exists,
// so a row never points at half a file.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/database-impl.h"

namespace muse::store {

namespace {

class unique_fd {
  public:
    explicit unique_fd(int fd) : fd_(fd) {}
    ~unique_fd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    unique_fd(const unique_fd &)             = delete;
    unique_fd & operator=(const unique_fd &) = delete;

    int get() const { return fd_; }
    // Closes now, reporting the error a deferred write may surface only at close.
    int close() {
        const int rc = ::close(fd_);
        fd_          = -1;
        return rc;
    }

  private:
    int fd_;
};

[[noreturn]] void fail_errno(const std::string & what, const std::filesystem::path & path) {
    throw store_error(what + " " + path.string() + ": " + std::strerror(errno) +
                      "; check the disk has space and the data directory is writable, or pass --data-dir DIR");
}

std::filesystem::path user_files_dir(const std::filesystem::path & data_dir, int64_t user_id) {
    return data_dir / "files" / std::to_string(user_id);
}

void write_all(int fd, const std::string & bytes, const std::filesystem::path & path) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail_errno("cannot write", path);
        }
        done += (size_t)n;
    }
}

// Writes `bytes` as dir/name: temporary file, fsync, rename, fsync of the directory.
void file_write_durable(const std::filesystem::path & dir, const std::string & name, const std::string & bytes) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw store_error("cannot create " + dir.string() + ": " + ec.message() +
                          "; check the data directory is writable, or pass --data-dir DIR");
    }
    const std::filesystem::path tmp   = dir / ("." + name + ".tmp");
    const std::filesystem::path final = dir / name;
    try {
        unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (fd.get() < 0)
            fail_errno("cannot create", tmp);
        write_all(fd.get(), bytes, tmp);
        if (::fsync(fd.get()) != 0)
            fail_errno("cannot sync", tmp);
        if (fd.close() != 0)
            fail_errno("cannot close", tmp);
        if (::rename(tmp.c_str(), final.c_str()) != 0)
            fail_errno("cannot rename to", final);
    } catch (...) {
        std::filesystem::remove(tmp, ec);
        throw;
    }
    unique_fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0)
        fail_errno("cannot sync the directory", dir);
}

file_record file_from_row(const sqlite_statement & st) {
    file_record f;
    f.id         = st.column_text(0);
    f.user_id    = st.column_int(1);
    f.filename   = st.column_text(2);
    f.purpose    = st.column_text(3);
    f.bytes      = st.column_int(4);
    f.created_at = st.column_int(5);
    return f;
}

constexpr const char * k_file_columns = "SELECT id, user_id, filename, purpose, bytes, created_at FROM files";

}  // namespace

file_record database::file_put(int64_t user_id, const std::string & filename, const std::string & purpose,
                               const std::string & bytes) {
    file_record f;
    f.id                            = id_make("file-");
    f.user_id                       = user_id;
    f.filename                      = filename;
    f.purpose                       = purpose;
    f.bytes                         = (int64_t)bytes.size();
    f.created_at                    = now_seconds();
    const std::filesystem::path dir = user_files_dir(impl_->data_dir, user_id);
    file_write_durable(dir, f.id, bytes);  // outside the lock: a large upload blocks no one
    try {
        std::lock_guard lock(impl_->mutex);
        sqlite_statement(
            impl_->conn,
            "INSERT INTO files (id, user_id, filename, purpose, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, f.id)
            .bind(2, f.user_id)
            .bind(3, f.filename)
            .bind(4, f.purpose)
            .bind(5, f.bytes)
            .bind(6, f.created_at)
            .run();
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(dir / f.id, ec);
        throw;
    }
    return f;
}

std::optional<file_record> database::file_get(int64_t user_id, const std::string & id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_file_columns) + " WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    if (!st.step())
        return std::nullopt;
    return file_from_row(st);
}

std::optional<std::string> database::file_read(int64_t user_id, const std::string & id) {
    const std::optional<file_record> f = file_get(user_id, id);
    if (!f)
        return std::nullopt;
    // The path comes from the row's id, never from the caller's string.
    const std::filesystem::path path = user_files_dir(impl_->data_dir, user_id) / f->id;
    unique_fd                   fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT && !file_get(user_id, id))
            return std::nullopt;  // deleted meanwhile
        fail_errno("the stored bytes of " + id + " cannot be opened:", path);
    }
    std::string bytes;
    bytes.reserve((size_t)std::max<int64_t>(f->bytes, 0));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail_errno("cannot read", path);
        }
        if (n == 0)
            break;
        bytes.append(buf, (size_t)n);
    }
    return bytes;
}

std::vector<file_record> database::file_list(int64_t user_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_file_columns) + " WHERE user_id = ? ORDER BY created_at, rowid");
    st.bind(1, user_id);
    std::vector<file_record> out;
    while (st.step()) {
        out.push_back(file_from_row(st));
    }
    return out;
}

bool database::file_delete(int64_t user_id, const std::string & id) {
    {
        std::lock_guard lock(impl_->mutex);
        if (!user_row_delete(impl_->conn, "files", user_id, id))
            return false;
        // Its chunks went with the row (a trigger, migration 3); their vectors leave the index.
        impl_->vectors.remove_source(user_id, chunk_source_key(CHUNK_SOURCE_FILE, id));
    }
    // The row is gone (and committed) first: a crash here leaves unreachable bytes, never a
    // row without its file.
    std::error_code ec;
    std::filesystem::remove(user_files_dir(impl_->data_dir, user_id) / id, ec);
    if (ec) {
        throw store_error("deleted the record of " + id + " but not its bytes: " + ec.message() + "; remove " +
                          (user_files_dir(impl_->data_dir, user_id) / id).string() + " by hand");
    }
    return true;
}

}  // namespace muse::store
