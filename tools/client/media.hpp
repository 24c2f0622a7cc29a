// Sending and fetching files through the media service, as a client does it:
//
// send_media: encrypt the file under a fresh key (media_crypto.hpp), ask the
// chat node for an upload token, upload the blob to /media/<sha256> and, when
// the link breaks, ask where the stored bytes end (HEAD) and go on from there.
// The caller then sends encode_media_payload(ref) as a message.
//
// fetch_media: ask for a download token, download the blob into OUT.<id>.part,
// resuming with Range from what that file already holds (after a broken link,
// or in a later run), check its SHA-256 against the id, decrypt it into OUT and
// check the file's digest; the part goes once OUT is complete.
//
// Tokens come from the caller (token_source), so that it chooses the
// connection they are asked on. Blocking; failures come back as values.
#pragma once

#include "tools/client/client.hpp"
#include "tools/client/media_ref.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace parley::client {

/// Asks the chat node for a media token (see connection::media_token).
using token_source = std::function<outcome<media_grant>(
  wire::MediaAction action, const std::string& sha256, uint64_t size,
  const std::vector<std::string>& recipients)>;

struct media_options {
  /// The media service's URL; empty: the one the node names with each token.
  std::string url;
  /// For connecting and for every read or write.
  std::chrono::milliseconds timeout{30000};
  /// Failed attempts in a row (broken links, busy, server errors) before giving up.
  int attempts = 8;
  std::chrono::milliseconds initial_backoff{200};
  /// Called after every piece of the body moved: (bytes done, bytes in all).
  std::function<void(uint64_t, uint64_t)> progress;
};

/// What send_media did.
struct upload_report {
  media_ref ref;             // with the MIME type and file name filled in
  uint64_t resumed_at = 0;   // the last offset an attempt resumed from (0: none did)
  int attempts = 0;          // requests that carried bytes
  bool already_stored = false;  // the service had these bytes (a repeated upload)
};

/// Encrypts and uploads `path` for `recipients`.
outcome<upload_report> send_media(const std::string& path, const std::string& mime_type,
                                  const std::vector<std::string>& recipients,
                                  const token_source& tokens, const media_options& opts);

/// What fetch_media did.
struct download_report {
  uint64_t resumed_at = 0;  // where the first request started (a part from before)
  int attempts = 0;
};

/// Downloads, checks and decrypts the file of `ref` into `out_path`.
outcome<download_report> fetch_media(const media_ref& ref, const std::string& out_path,
                                     const token_source& tokens, const media_options& opts);

/// Where fetch_media keeps the blob while it downloads: OUT.<16 hex of id>.part.
std::string partial_path(const std::string& out_path, const media_ref& ref);

/// A MIME type for a file name's extension (application/octet-stream if unknown).
std::string guess_mime_type(const std::string& path);

} // namespace parley::client
