// parley-media's blobs on disk: named by the SHA-256 of their bytes, visible
// only once complete and checked, deleted when retention says so.
//
// Layout under the blob folder:
//   blobs/<first two hex digits>/<sha256>        complete, checked blobs
//   blobs/<first two hex digits>/<sha256>.meta   uploader, time, recipients, downloads
//   partial/<sha256>.part                        an upload under way or cut off
//
// An upload appends to its .part while hashing. When its last byte is in, the
// part is fsynced and its SHA-256 compared with its name; a mismatch deletes
// it. Otherwise the metadata is written (temp name, fsync, rename), the part is
// renamed into blobs/ and the folder fsynced: a blob is there whole or not at
// all. A cut-off upload leaves only its .part, from whose size it resumes.
//
// Retention: a blob goes once every recipient named at upload has downloaded
// it to its last byte, or once it is older than the retention time; a part
// nobody wrote to for the partial retention time goes too (sweep()).
//
// Thread-safe: parley-media calls it from several threads. One upload per blob
// at a time (a second one is refused as busy until the first ends). It stops
// with its owner; nothing runs in the background here.
#pragma once

#include "media/sha256.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace parley::media {

/// What the store keeps about a complete blob (the .meta file).
struct blob_meta {
  int64_t created = 0;  // Unix seconds
  uint64_t size = 0;
  std::string uploader;
  std::vector<std::string> recipients;  // who must download it before it goes
  std::vector<std::string> downloaded;  // recipients who did, to the last byte
};

/// Why the store refused or failed.
enum class store_error : uint8_t {
  io,              ///< the disk failed (the message says how)
  busy,            ///< another upload of this blob is under way
  wrong_offset,    ///< a resumed upload does not start where the stored bytes end
  hash_mismatch,   ///< the bytes do not have the SHA-256 of the name: deleted
  incomplete,      ///< finish() before the last byte
};

struct store_failure {
  store_error what = store_error::io;
  std::string message;
  uint64_t stored = 0;  // for wrong_offset: where to resume
};

class blob_store;

/// One upload under way: holds the blob's upload slot until destroyed. Not
/// thread-safe itself: one connection drives it.
class blob_upload {
public:
  ~blob_upload();

  blob_upload(const blob_upload&) = delete;
  blob_upload& operator=(const blob_upload&) = delete;

  /// Bytes stored so far.
  uint64_t offset() const noexcept {
    return offset_;
  }

  uint64_t total() const noexcept {
    return total_;
  }

  /// Hashes the bytes a resumed upload already has (reads them back: may take
  /// seconds for a large part, so call it off the I/O threads).
  std::optional<store_failure> prepare();

  /// Appends bytes (written, hashed).
  std::optional<store_failure> append(const char* data, size_t size);

  /// After the last byte: checks the hash and makes the blob visible with `meta`
  /// (its size is filled in). Off the I/O threads: it fsyncs.
  std::optional<store_failure> finish(blob_meta meta);

private:
  friend class blob_store;

  blob_upload(blob_store& store, std::string sha, int fd, uint64_t offset, uint64_t total);

  blob_store& store_;
  std::string sha_;  // 32 raw bytes
  int fd_;
  uint64_t offset_;
  uint64_t total_;
  bool prepared_ = false;
  sha256 hash_;
};

/// A complete blob opened for reading; closes its descriptor when destroyed.
class blob_reader {
public:
  blob_reader(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~blob_reader();

  blob_reader(const blob_reader&) = delete;
  blob_reader& operator=(const blob_reader&) = delete;

  int fd() const noexcept {
    return fd_;
  }

  uint64_t size() const noexcept {
    return size_;
  }

private:
  int fd_;
  uint64_t size_;
};

/// What a sweep deleted.
struct sweep_result {
  size_t blobs = 0;
  size_t parts = 0;
};

class blob_store {
public:
  /// Opens (creating the folders of) the store at `root`.
  static std::unique_ptr<blob_store> open(const std::string& root, std::string& error);

  /// The size of the complete blob `sha` (32 raw bytes), if there is one.
  std::optional<uint64_t> size_of(const std::string& sha) const;

  /// Bytes of `sha` stored so far: its size when complete, else its part's, else 0.
  uint64_t stored_offset(const std::string& sha) const;

  /// Starts (offset 0: from scratch, dropping any part) or resumes (offset: the
  /// part's size) the upload of `sha`, `total` bytes in all.
  std::variant<std::unique_ptr<blob_upload>, store_failure>
  begin_upload(const std::string& sha, uint64_t offset, uint64_t total);

  /// A second upload of a complete blob names these recipients too.
  std::optional<store_failure> add_recipients(const std::string& sha,
                                              const std::vector<std::string>& recipients);

  /// Opens the complete blob `sha` for reading; nothing if there is none.
  std::unique_ptr<blob_reader> open_blob(const std::string& sha) const;

  /// `user` downloaded `sha` to its last byte. Deletes the blob when every
  /// named recipient has; returns whether it did.
  bool record_download(const std::string& sha, const std::string& user);

  /// The metadata of a complete blob.
  std::optional<blob_meta> meta(const std::string& sha) const;

  /// Deletes blobs older than `retention_s` and parts untouched for
  /// `partial_retention_s` (Unix seconds `now`).
  sweep_result sweep(int64_t now, int64_t retention_s, int64_t partial_retention_s);

  const std::string& root() const noexcept {
    return root_;
  }

private:
  friend class blob_upload;

  explicit blob_store(std::string root);

  std::string blob_path(const std::string& sha) const;
  std::string meta_path(const std::string& sha) const;
  std::string part_path(const std::string& sha) const;

  /// Deletes blob and metadata; with mutex_ held.
  void remove_blob(const std::string& sha);

  void release(const std::string& sha);

  std::string root_;
  mutable std::mutex mutex_;       // uploading_ and every metadata update
  std::set<std::string> uploading_;  // blobs with an upload under way
};

/// Reads a .meta file's text; nothing if it is not one.
std::optional<blob_meta> parse_meta(const std::string& text);

/// The text of a .meta file.
std::string format_meta(const blob_meta& meta);

} // namespace parley::media
