#include "tools/client/media_crypto.hpp"

#include "media/sha256.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace parley::client {

namespace {

constexpr size_t header_bytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr size_t overhead = crypto_secretstream_xchacha20poly1305_ABYTES;

failure local(std::string message) {
  return failure{failure::kind::local, wire::ErrorCode::INTERNAL, std::move(message)};
}

failure errno_failure(const std::string& what) {
  return local(what + ": " + std::strerror(errno));
}

/// Reads up to `size` bytes, fewer only at the end of the file.
outcome<size_t> read_full(int fd, char* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    auto n = ::read(fd, out + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno_failure("reading");
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  return got;
}

bool write_full(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

} // namespace

uint64_t encrypted_size(uint64_t size, uint32_t chunk_size) {
  auto chunks = size / chunk_size + 1;  // the last one is short, possibly empty
  return header_bytes + size + chunks * overhead;
}

// -- the blob, produced again ---------------------------------------------------------

blob_reader::blob_reader(const sealing& seal, int fd) : seal_(seal), fd_(fd) {
  state_ = seal.start;
  plain_.resize(seal.chunk_size);
}

blob_reader::~blob_reader() {
  sodium_memzero(&state_, sizeof(state_));
  ::close(fd_);
}

outcome<std::unique_ptr<blob_reader>> blob_reader::open(const sealing& seal) {
  int fd = ::open(seal.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno_failure("cannot open " + seal.path);
  struct stat st {};
  ::fstat(fd, &st);
  if (static_cast<uint64_t>(st.st_size) != seal.size || mtime_ns(st) != seal.mtime_ns) {
    ::close(fd);
    return local(seal.path + " changed while it was being sent");
  }
  return std::unique_ptr<blob_reader>(new blob_reader(seal, fd));
}

outcome<done> blob_reader::next_chunk() {
  auto got = read_full(fd_, plain_.data(), plain_.size());
  if (!got)
    return got.error();
  file_pos_ += *got;
  if (file_hash_ != nullptr)
    file_hash_->update(plain_.data(), *got);
  bool last = *got < plain_.size();
  if (last && file_pos_ != seal_.size)
    return local(seal_.path + " changed while it was being sent");
  pending_.resize(*got + overhead);
  crypto_secretstream_xchacha20poly1305_push(
    &state_, reinterpret_cast<unsigned char*>(pending_.data()), nullptr,
    reinterpret_cast<const unsigned char*>(plain_.data()), *got, nullptr, 0,
    last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
  pending_pos_ = 0;
  final_done_ = last;
  return done{};
}

outcome<done> blob_reader::seek(uint64_t offset) {
  if (offset < position_) {
    // Back to the start: the stream only runs forwards.
    if (::lseek(fd_, 0, SEEK_SET) != 0)
      return errno_failure("seeking");
    state_ = seal_.start;
    pending_.clear();
    pending_pos_ = 0;
    file_pos_ = 0;
    position_ = 0;
    header_done_ = false;
    final_done_ = false;
  }
  std::vector<char> scratch(256 * 1024);
  while (position_ < offset) {
    auto n = read(scratch.data(),
                  static_cast<size_t>(std::min<uint64_t>(scratch.size(), offset - position_)));
    if (!n)
      return n.error();
    if (*n == 0)
      return local("offset past the end of the blob");
  }
  return done{};
}

outcome<size_t> blob_reader::read(char* out, size_t max) {
  size_t written = 0;
  while (written < max) {
    if (!header_done_) {
      // The header counts as the blob's first bytes, like any others.
      pending_.assign(reinterpret_cast<const char*>(seal_.header.data()), header_bytes);
      pending_pos_ = 0;
      header_done_ = true;
    } else if (pending_pos_ == pending_.size()) {
      if (final_done_)
        break;
      if (auto ok = next_chunk(); !ok)
        return ok.error();
    }
    auto n = std::min(max - written, pending_.size() - pending_pos_);
    std::memcpy(out + written, pending_.data() + pending_pos_, n);
    pending_pos_ += n;
    written += n;
  }
  position_ += written;
  return written;
}

// -- the first pass -------------------------------------------------------------------

outcome<sealed_file> seal_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno_failure("cannot read " + path);
  if (!S_ISREG(st.st_mode))
    return local(path + " is not a regular file");
  sealed_file out;
  auto& s = out.seal;
  s.path = path;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = mtime_ns(st);
  s.key.resize(crypto_secretstream_xchacha20poly1305_KEYBYTES);
  crypto_secretstream_xchacha20poly1305_keygen(reinterpret_cast<unsigned char*>(s.key.data()));
  crypto_secretstream_xchacha20poly1305_init_push(
    &s.start, s.header.data(), reinterpret_cast<const unsigned char*>(s.key.data()));
  auto reader = blob_reader::open(s);
  if (!reader)
    return reader.error();
  media::sha256 blob_hash, file_hash;
  (*reader)->hash_file_into(&file_hash);
  std::vector<char> buf(256 * 1024);
  for (;;) {
    auto n = (*reader)->read(buf.data(), buf.size());
    if (!n)
      return n.error();
    if (*n == 0)
      break;
    blob_hash.update(buf.data(), *n);
  }
  auto& ref = out.ref;
  ref.id = blob_hash.finish();
  ref.digest = file_hash.finish();
  ref.size = s.size;
  ref.encrypted_size = encrypted_size(s.size, s.chunk_size);
  ref.key = s.key;
  ref.chunk_size = s.chunk_size;
  if ((*reader)->position() != ref.encrypted_size)
    return local(path + " changed while it was being read");
  return out;
}

// -- decryption -----------------------------------------------------------------------

outcome<done> decrypt_file(const std::string& blob_path, const media_ref& ref,
                           const std::string& out_path) {
  if (ref.key.size() != crypto_secretstream_xchacha20poly1305_KEYBYTES || ref.chunk_size == 0)
    return local("the media reference has no valid key");
  int in = ::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return errno_failure("cannot open " + blob_path);
  auto tmp = out_path + ".tmp";
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    ::close(in);
    return errno_failure("cannot create " + tmp);
  }
  auto fail = [&](failure why) -> outcome<done> {
    ::close(in);
    ::close(out);
    ::unlink(tmp.c_str());
    return why;
  };
  unsigned char header[header_bytes];
  auto got = read_full(in, reinterpret_cast<char*>(header), header_bytes);
  if (!got)
    return fail(got.error());
  crypto_secretstream_xchacha20poly1305_state state;
  if (*got != header_bytes
      || crypto_secretstream_xchacha20poly1305_init_pull(
           &state, header, reinterpret_cast<const unsigned char*>(ref.key.data()))
           != 0)
    return fail(local("the blob does not start like a secretstream"));
  std::vector<char> cipher(ref.chunk_size + overhead);
  std::vector<char> plain(ref.chunk_size);
  media::sha256 digest;
  uint64_t total = 0;
  bool final = false;
  while (!final) {
    auto n = read_full(in, cipher.data(), cipher.size());
    if (!n)
      return fail(n.error());
    if (*n < overhead)
      return fail(local("the blob is truncated"));
    unsigned long long plain_len = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
          &state, reinterpret_cast<unsigned char*>(plain.data()), &plain_len, &tag,
          reinterpret_cast<const unsigned char*>(cipher.data()), *n, nullptr, 0)
        != 0)
      return fail(local("the blob does not decrypt: damaged, or not this key's"));
    final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (!final && *n < cipher.size())
      return fail(local("the blob is truncated"));
    digest.update(plain.data(), plain_len);
    total += plain_len;
    if (!write_full(out, plain.data(), plain_len))
      return fail(errno_failure("writing " + tmp));
  }
  char extra;
  auto more = read_full(in, &extra, 1);
  if (!more || *more != 0)
    return fail(local("the blob goes on after its final chunk"));
  sodium_memzero(&state, sizeof(state));
  if (total != ref.size || digest.finish() != ref.digest)
    return fail(local("the file's size or digest is not the one its sender announced"));
  if (::fsync(out) != 0)
    return fail(errno_failure("fsync of " + tmp));
  ::close(in);
  ::close(out);
  if (::rename(tmp.c_str(), out_path.c_str()) != 0) {
    auto why = errno_failure("cannot rename to " + out_path);
    ::unlink(tmp.c_str());
    return why;
  }
  return done{};
}

outcome<std::string> sha256_of_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno_failure("cannot open " + path);
  media::sha256 hash;
  std::vector<char> buf(1 << 20);
  for (;;) {
    auto n = read_full(fd, buf.data(), buf.size());
    if (!n) {
      ::close(fd);
      return n.error();
    }
    if (*n == 0)
      break;
    hash.update(buf.data(), *n);
  }
  ::close(fd);
  return hash.finish();
}

} // namespace parley::client
