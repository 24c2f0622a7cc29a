#include "media/blob_store.hpp"

#include "media/token.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace parley::media {

namespace {

store_failure io_failure(const std::string& what) {
  return {store_error::io, what + ": " + std::strerror(errno), 0};
}

bool make_dir(const std::string& path) {
  return ::mkdir(path.c_str(), 0750) == 0 || errno == EEXIST;
}

/// fsyncs a folder, so that a rename in it is durable.
bool sync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

bool write_all(int fd, const char* data, size_t size, uint64_t offset) {
  while (size > 0) {
    auto n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

/// Writes `text` to `path` through a temp name and a rename; fsyncs the file
/// first when `durable`.
bool write_file_atomically(const std::string& path, const std::string& text, bool durable) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    return false;
  bool ok = write_all(fd, text.data(), text.size(), 0) && (!durable || ::fsync(fd) == 0);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 1024 * 1024)
      break;  // not a meta file
  }
  ::close(fd);
  return out;
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty())
      out.push_back(name);
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (auto& n : names) {
    if (!out.empty())
      out += ',';
    out += n;
  }
  return out;
}

bool all_downloaded(const blob_meta& m) {
  if (m.recipients.empty())
    return false;  // nobody named: only the retention time deletes it
  return std::all_of(m.recipients.begin(), m.recipients.end(), [&](const std::string& r) {
    return std::find(m.downloaded.begin(), m.downloaded.end(), r) != m.downloaded.end();
  });
}

/// The names in a folder, "." and ".." left out.
std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr)
    return out;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..")
      out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}

int64_t mtime_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : -1;
}

} // namespace

// -- metadata ------------------------------------------------------------------

std::string format_meta(const blob_meta& m) {
  std::ostringstream out;
  out << "parley-media-meta 1\n"
      << "created " << m.created << "\n"
      << "size " << m.size << "\n"
      << "uploader " << m.uploader << "\n"
      << "recipients " << join_names(m.recipients) << "\n"
      << "downloaded " << join_names(m.downloaded) << "\n";
  return out.str();
}

std::optional<blob_meta> parse_meta(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != "parley-media-meta 1")
    return std::nullopt;
  blob_meta m;
  bool created = false, size = false;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    auto key = line.substr(0, space);
    auto value = space == std::string::npos ? std::string() : line.substr(space + 1);
    try {
      if (key == "created") {
        m.created = std::stoll(value);
        created = true;
      } else if (key == "size") {
        m.size = std::stoull(value);
        size = true;
      } else if (key == "uploader") {
        m.uploader = value;
      } else if (key == "recipients") {
        m.recipients = split_names(value);
      } else if (key == "downloaded") {
        m.downloaded = split_names(value);
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (!created || !size)
    return std::nullopt;
  return m;
}

// -- an upload -------------------------------------------------------------------

blob_upload::blob_upload(blob_store& store, std::string sha, int fd, uint64_t offset,
                         uint64_t total)
  : store_(store), sha_(std::move(sha)), fd_(fd), offset_(offset), total_(total),
    prepared_(offset == 0) {
  // nop
}

blob_upload::~blob_upload() {
  if (fd_ >= 0)
    ::close(fd_);
  store_.release(sha_);
}

std::optional<store_failure> blob_upload::prepare() {
  if (prepared_)
    return std::nullopt;
  std::vector<char> buf(1 << 20);
  uint64_t pos = 0;
  while (pos < offset_) {
    auto want = static_cast<size_t>(std::min<uint64_t>(buf.size(), offset_ - pos));
    auto n = ::pread(fd_, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return io_failure("reading back the stored part");
    hash_.update(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  prepared_ = true;
  return std::nullopt;
}

std::optional<store_failure> blob_upload::append(const char* data, size_t size) {
  if (offset_ + size > total_)
    return store_failure{store_error::io, "more bytes than announced", offset_};
  if (!write_all(fd_, data, size, offset_))
    return io_failure("writing the part");
  hash_.update(data, size);
  offset_ += size;
  return std::nullopt;
}

std::optional<store_failure> blob_upload::finish(blob_meta meta) {
  if (!prepared_ || offset_ != total_)
    return store_failure{store_error::incomplete, "the upload is not complete", offset_};
  auto part = store_.part_path(sha_);
  if (::fsync(fd_) != 0)
    return io_failure("fsync of the part");
  ::close(fd_);
  fd_ = -1;
  if (hash_.finish() != sha_) {
    ::unlink(part.c_str());
    return store_failure{store_error::hash_mismatch,
                         "the bytes received do not have the SHA-256 of the URL", 0};
  }
  meta.size = total_;
  auto blob = store_.blob_path(sha_);
  auto dir = parent_of(blob);
  std::lock_guard<std::mutex> guard{store_.mutex_};
  if (!make_dir(dir))
    return io_failure("creating " + dir);
  // Metadata first: a visible blob always has its metadata.
  if (!write_file_atomically(store_.meta_path(sha_), format_meta(meta), true))
    return io_failure("writing the metadata");
  if (::rename(part.c_str(), blob.c_str()) != 0)
    return io_failure("moving the blob into place");
  if (!sync_dir(dir) || !sync_dir(parent_of(part)))
    return io_failure("fsync of the blob's folder");
  return std::nullopt;
}

// -- reading -------------------------------------------------------------------------

blob_reader::~blob_reader() {
  if (fd_ >= 0)
    ::close(fd_);
}

// -- the store -----------------------------------------------------------------------

blob_store::blob_store(std::string root) : root_(std::move(root)) {
  // nop
}

std::unique_ptr<blob_store> blob_store::open(const std::string& root, std::string& error) {
  for (auto& dir : {root, root + "/blobs", root + "/partial"}) {
    if (!make_dir(dir)) {
      error = "cannot create " + dir + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  // A leftover from a crash in the middle of a metadata write.
  for (auto& shard : list_dir(root + "/blobs"))
    for (auto& name : list_dir(root + "/blobs/" + shard))
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0)
        ::unlink((root + "/blobs/" + shard + "/" + name).c_str());
  return std::unique_ptr<blob_store>(new blob_store(root));
}

std::string blob_store::blob_path(const std::string& sha) const {
  auto h = to_hex(sha);
  return root_ + "/blobs/" + h.substr(0, 2) + "/" + h;
}

std::string blob_store::meta_path(const std::string& sha) const {
  return blob_path(sha) + ".meta";
}

std::string blob_store::part_path(const std::string& sha) const {
  return root_ + "/partial/" + to_hex(sha) + ".part";
}

std::optional<uint64_t> blob_store::size_of(const std::string& sha) const {
  struct stat st {};
  if (::stat(blob_path(sha).c_str(), &st) != 0)
    return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

uint64_t blob_store::stored_offset(const std::string& sha) const {
  if (auto size = size_of(sha))
    return *size;
  struct stat st {};
  if (::stat(part_path(sha).c_str(), &st) != 0)
    return 0;
  return static_cast<uint64_t>(st.st_size);
}

std::variant<std::unique_ptr<blob_upload>, store_failure>
blob_store::begin_upload(const std::string& sha, uint64_t offset, uint64_t total) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!uploading_.insert(sha).second)
      return store_failure{store_error::busy, "another upload of this blob is under way",
                           0};
  }
  auto part = part_path(sha);
  int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    auto failure = io_failure("opening " + part);
    release(sha);
    return failure;
  }
  struct stat st {};
  ::fstat(fd, &st);
  auto stored = static_cast<uint64_t>(st.st_size);
  if (offset == 0 && stored > 0 && ::ftruncate(fd, 0) != 0) {
    auto failure = io_failure("truncating " + part);
    ::close(fd);
    release(sha);
    return failure;
  }
  if (offset != 0 && offset != stored) {
    ::close(fd);
    release(sha);
    return store_failure{store_error::wrong_offset,
                         "the upload must resume at byte " + std::to_string(stored),
                         stored};
  }
  ::utimensat(AT_FDCWD, part.c_str(), nullptr, 0);  // touched: retention counts from now
  return std::unique_ptr<blob_upload>(new blob_upload(*this, sha, fd, offset, total));
}

void blob_store::release(const std::string& sha) {
  std::lock_guard<std::mutex> guard{mutex_};
  uploading_.erase(sha);
}

std::optional<store_failure>
blob_store::add_recipients(const std::string& sha, const std::vector<std::string>& recipients) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto text = read_file(meta_path(sha));
  auto m = text ? parse_meta(*text) : std::nullopt;
  if (!m)
    return store_failure{store_error::io, "no metadata for the blob", 0};
  bool changed = false;
  for (auto& r : recipients)
    if (std::find(m->recipients.begin(), m->recipients.end(), r) == m->recipients.end()) {
      m->recipients.push_back(r);
      changed = true;
    }
  if (changed && !write_file_atomically(meta_path(sha), format_meta(*m), true))
    return io_failure("writing the metadata");
  return std::nullopt;
}

std::unique_ptr<blob_reader> blob_store::open_blob(const std::string& sha) const {
  int fd = ::open(blob_path(sha).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nullptr;
  struct stat st {};
  ::fstat(fd, &st);
  return std::make_unique<blob_reader>(fd, static_cast<uint64_t>(st.st_size));
}

std::optional<blob_meta> blob_store::meta(const std::string& sha) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto text = read_file(meta_path(sha));
  return text ? parse_meta(*text) : std::nullopt;
}

bool blob_store::record_download(const std::string& sha, const std::string& user) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto text = read_file(meta_path(sha));
  auto m = text ? parse_meta(*text) : std::nullopt;
  if (!m)
    return false;
  auto& r = m->recipients;
  auto& d = m->downloaded;
  if (std::find(r.begin(), r.end(), user) == r.end()
      || std::find(d.begin(), d.end(), user) != d.end())
    return false;
  d.push_back(user);
  if (all_downloaded(*m)) {
    remove_blob(sha);
    return true;
  }
  // Not fsynced: a lost update only keeps the blob until its retention time.
  write_file_atomically(meta_path(sha), format_meta(*m), false);
  return false;
}

void blob_store::remove_blob(const std::string& sha) {
  // Blob first: metadata without a blob is swept, a blob without metadata is not
  // served any differently. A download under way keeps reading what it opened.
  ::unlink(blob_path(sha).c_str());
  ::unlink(meta_path(sha).c_str());
}

sweep_result blob_store::sweep(int64_t now, int64_t retention_s, int64_t partial_retention_s) {
  sweep_result out;
  auto blobs = root_ + "/blobs";
  for (auto& shard : list_dir(blobs)) {
    auto dir = blobs + "/" + shard;
    for (auto& name : list_dir(dir)) {
      if (name.size() != 64)
        continue;  // metadata and temp files go with their blob
      auto sha = from_hex(name);
      if (!sha)
        continue;
      std::lock_guard<std::mutex> guard{mutex_};
      if (uploading_.count(*sha) > 0)
        continue;
      auto text = read_file(meta_path(*sha));
      auto m = text ? parse_meta(*text) : std::nullopt;
      int64_t created = m ? m->created : mtime_of(dir + "/" + name);
      if (created >= 0 && created + retention_s <= now) {
        remove_blob(*sha);
        ++out.blobs;
      }
    }
    // Metadata whose blob is gone (a crash between the two unlinks).
    for (auto& name : list_dir(dir)) {
      if (name.size() != 64 + 5 || name.compare(64, 5, ".meta") != 0)
        continue;
      auto sha = from_hex(name.substr(0, 64));
      std::lock_guard<std::mutex> guard{mutex_};
      if (sha && uploading_.count(*sha) == 0 && !size_of(*sha))
        ::unlink((dir + "/" + name).c_str());
    }
  }
  auto partial = root_ + "/partial";
  for (auto& name : list_dir(partial)) {
    if (name.size() != 64 + 5 || name.compare(64, 5, ".part") != 0)
      continue;
    auto sha = from_hex(name.substr(0, 64));
    if (!sha)
      continue;
    std::lock_guard<std::mutex> guard{mutex_};
    if (uploading_.count(*sha) > 0)
      continue;
    auto path = partial + "/" + name;
    auto mtime = mtime_of(path);
    if (mtime >= 0 && mtime + partial_retention_s <= now) {
      ::unlink(path.c_str());
      ++out.parts;
    }
  }
  return out;
}

} // namespace parley::media
