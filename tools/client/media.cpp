#include "tools/client/media.hpp"

#include "media/token.hpp"
#include "tools/client/media_crypto.hpp"
#include "tools/client/media_http.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace parley::client {

namespace {

failure local(std::string message) {
  return failure{failure::kind::local, wire::ErrorCode::INTERNAL, std::move(message)};
}

/// A refusal by the media service that retrying cannot change.
failure refused(const http_response& res) {
  auto text = res.body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return failure{failure::kind::server, wire::ErrorCode::INTERNAL,
                 "the media service answered " + std::to_string(res.status)
                   + (text.empty() ? std::string() : ": " + text)};
}

std::optional<uint64_t> number(const std::string& text) {
  uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size())
    return std::nullopt;
  return value;
}

/// A token and where to use it.
struct grant_in_use {
  media_grant grant;
  http_endpoint endpoint;
};

outcome<grant_in_use> get_grant(const token_source& tokens, wire::MediaAction action,
                                const std::string& sha, uint64_t size,
                                const std::vector<std::string>& recipients,
                                const media_options& opts) {
  auto grant = tokens(action, sha, size, recipients);
  if (!grant)
    return grant.error();
  auto url = opts.url.empty() ? grant->url : opts.url;
  if (url.empty())
    return local("the chat node names no media service (parley.media-url); give its URL "
                 "with --media");
  auto ep = parse_http_url(url);
  if (!ep)
    return local("not an http:// URL: " + url);
  return grant_in_use{std::move(*grant), std::move(*ep)};
}

/// Counts failures in a row and waits between them, doubling the wait.
class retry_budget {
public:
  explicit retry_budget(const media_options& opts)
    : left_(opts.attempts), wait_(opts.initial_backoff) {}

  /// After a failure: waits and says whether to try again.
  bool failed() {
    if (--left_ <= 0)
      return false;
    std::this_thread::sleep_for(wait_);
    wait_ = std::min<std::chrono::milliseconds>(wait_ * 2, std::chrono::seconds(5));
    return true;
  }

private:
  int left_;
  std::chrono::milliseconds wait_;
};

std::string file_name_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string guess_mime_type(const std::string& path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos)
    return "application/octet-stream";
  std::string ext = path.substr(dot + 1);
  for (auto& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<const char*, const char*> types[] = {
    {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"},     {"png", "image/png"},
    {"gif", "image/gif"},        {"webp", "image/webp"},     {"heic", "image/heic"},
    {"mp4", "video/mp4"},        {"mov", "video/quicktime"}, {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},       {"m4a", "audio/mp4"},       {"ogg", "audio/ogg"},
    {"opus", "audio/opus"},      {"wav", "audio/wav"},       {"pdf", "application/pdf"},
    {"txt", "text/plain"},       {"zip", "application/zip"}, {"json", "application/json"},
  };
  for (auto& [e, type] : types)
    if (ext == e)
      return type;
  return "application/octet-stream";
}

std::string partial_path(const std::string& out_path, const media_ref& ref) {
  return out_path + "." + to_hex(ref.id).substr(0, 16) + ".part";
}

// -- upload ------------------------------------------------------------------------

outcome<upload_report> send_media(const std::string& path, const std::string& mime_type,
                                  const std::vector<std::string>& recipients,
                                  const token_source& tokens, const media_options& opts) {
  auto sealed = seal_file(path);
  if (!sealed)
    return sealed.error();
  upload_report report;
  report.ref = sealed->ref;
  report.ref.mime_type = mime_type.empty() ? guess_mime_type(path) : mime_type;
  report.ref.file_name = file_name_of(path);
  auto& ref = report.ref;
  auto total = ref.encrypted_size;
  auto target = "/media/" + to_hex(ref.id);
  auto use = get_grant(tokens, wire::MediaAction::UPLOAD, ref.id, total, recipients, opts);
  if (!use)
    return use.error();
  auto reader = blob_reader::open(sealed->seal);
  if (!reader)
    return reader.error();
  retry_budget budget(opts);
  bool ask_offset = false;  // after a failure: where do the stored bytes end?
  uint64_t offset = 0;
  for (;;) {
    http_client http(use->endpoint, opts.timeout);
    std::vector<std::pair<std::string, std::string>> auth{
      {"Authorization", "Bearer " + use->grant.token}};
    auto renew = [&]() -> outcome<done> {
      auto fresh = get_grant(tokens, wire::MediaAction::UPLOAD, ref.id, total, recipients, opts);
      if (!fresh)
        return fresh.error();
      use = std::move(fresh);
      return done{};
    };
    if (ask_offset) {
      auto head = http.request("HEAD", target, auth);
      if (!head) {
        if (!budget.failed())
          return head.error();
        continue;
      }
      if (head->status == 401) {
        if (auto ok = renew(); !ok)
          return ok.error();
        if (!budget.failed())
          return refused(*head);
        continue;
      }
      if (head->status != 200)
        return refused(*head);
      auto stored = number(head->header("upload-offset"));
      if (!stored || *stored > total)
        return local("the media service gave no usable Upload-Offset");
      offset = *stored;
      ask_offset = false;
    }
    std::vector<std::pair<std::string, std::string>> headers = auth;
    uint64_t length = total - offset;
    if (offset == total && total > 0) {
      // Every byte is there: have it checked and made visible.
      headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
      length = 0;
    } else if (offset > 0) {
      headers.emplace_back("Content-Range", "bytes " + std::to_string(offset) + "-"
                                              + std::to_string(total - 1) + "/"
                                              + std::to_string(total));
    }
    if (auto ok = (*reader)->seek(offset); !ok)
      return ok.error();
    if (offset > 0)
      report.resumed_at = offset;
    ++report.attempts;
    auto res = http.upload("PUT", target, headers, length, [&](char* out, size_t max) {
      auto n = (*reader)->read(out, max);
      if (n && opts.progress)
        opts.progress((*reader)->position(), total);
      return n;
    });
    if (!res) {
      if (res.error().what == failure::kind::local)
        return res.error();  // the file, not the link
      ask_offset = true;
      if (!budget.failed())
        return res.error();
      continue;
    }
    switch (res->status) {
      case 200:
        report.already_stored = true;
        return report;
      case 201:
        return report;
      case 204:  // stored a piece, not the whole: go on from where it ends
      case 409:  // busy (an old attempt still holds the blob) or another offset
      case 500:
      case 502:
      case 503:
      case 504:
        ask_offset = true;
        if (!budget.failed())
          return refused(*res);
        continue;
      case 401:
        if (auto ok = renew(); !ok)
          return ok.error();
        ask_offset = true;
        if (!budget.failed())
          return refused(*res);
        continue;
      default:
        return refused(*res);  // 400 (the hash), 403, 413: trying again cannot help
    }
  }
}

// -- download ----------------------------------------------------------------------

outcome<download_report> fetch_media(const media_ref& ref, const std::string& out_path,
                                     const token_source& tokens, const media_options& opts) {
  struct stat st {};
  if (::stat(out_path.c_str(), &st) == 0)
    return local(out_path + " exists; not overwriting it");
  auto part = partial_path(out_path, ref);
  int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return local("cannot open " + part + ": " + std::strerror(errno));
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } close_part{fd};
  ::fstat(fd, &st);
  uint64_t offset = static_cast<uint64_t>(st.st_size);
  auto total = ref.encrypted_size;
  if (offset > total) {
    if (::ftruncate(fd, 0) != 0)
      return local("cannot truncate " + part);
    offset = 0;
  }
  download_report report;
  report.resumed_at = offset;
  auto target = "/media/" + to_hex(ref.id);
  auto use = get_grant(tokens, wire::MediaAction::DOWNLOAD, ref.id, 0, {}, opts);
  if (!use)
    return use.error();
  retry_budget budget(opts);
  while (offset < total) {
    http_client http(use->endpoint, opts.timeout);
    std::vector<std::pair<std::string, std::string>> headers{
      {"Authorization", "Bearer " + use->grant.token}};
    if (offset > 0)
      headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
    ++report.attempts;
    uint64_t pos = offset;
    bool started = false;
    auto sink = [&](const http_response& head, const char* data,
                    size_t size) -> outcome<done> {
      if (!started) {
        started = true;
        if (head.status == 200 && pos > 0) {
          // The Range was ignored: the body starts at byte 0.
          if (::ftruncate(fd, 0) != 0)
            return local("cannot truncate " + part);
          pos = 0;
        } else if (head.status == 206
                   && head.header("content-range").rfind("bytes " + std::to_string(pos) + "-", 0)
                        != 0) {
          return local("the media service sent another range than the one asked for");
        }
      }
      if (pos + size > total)
        return local("the media service sent more than the blob's size");
      size_t written = 0;
      while (written < size) {
        auto n = ::pwrite(fd, data + written, size - written, static_cast<off_t>(pos + written));
        if (n < 0 && errno == EINTR)
          continue;
        if (n < 0)
          return local("writing " + part + ": " + std::strerror(errno));
        written += static_cast<size_t>(n);
      }
      pos += size;
      if (opts.progress)
        opts.progress(pos, total);
      return done{};
    };
    auto res = http.request("GET", target, headers, sink);
    auto before = offset;
    // What arrived is kept, even from a request that broke off.
    ::fstat(fd, &st);
    offset = std::min<uint64_t>(static_cast<uint64_t>(st.st_size), total);
    if (!res) {
      if (res.error().what == failure::kind::local)
        return res.error();
      if (!budget.failed())
        return res.error();
      continue;
    }
    switch (res->status) {
      case 200:
      case 206:
        // Done when offset reached total; an answer that brought nothing counts
        // as a failure.
        if (offset < total && offset <= before && !budget.failed())
          return local("the media service sends no more of the blob");
        continue;
      case 416:
        if (offset >= total)
          continue;
        return local("the media service's blob is smaller than the message says");
      case 401: {
        auto fresh = get_grant(tokens, wire::MediaAction::DOWNLOAD, ref.id, 0, {}, opts);
        if (!fresh)
          return fresh.error();
        use = std::move(fresh);
        if (!budget.failed())
          return refused(*res);
        continue;
      }
      case 500:
      case 502:
      case 503:
      case 504:
        if (!budget.failed())
          return refused(*res);
        continue;
      case 404:
        return local("the media service no longer has this file (every recipient fetched "
                     "it, or it expired)");
      default:
        return refused(*res);
    }
  }
  // The blob is whole: is it the one the message names?
  auto id = sha256_of_file(part);
  if (!id)
    return id.error();
  if (*id != ref.id) {
    ::unlink(part.c_str());
    return local("the downloaded blob is not the one the message names; deleted it");
  }
  if (auto ok = decrypt_file(part, ref, out_path); !ok)
    return ok.error();
  ::unlink(part.c_str());
  return report;
}

} // namespace parley::client
