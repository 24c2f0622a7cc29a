// parley-chat's media commands: send-file and fetch (see commands.hpp).

#include "media/token.hpp"
#include "tools/chat/commands.hpp"
#include "tools/chat/device.hpp"
#include "tools/client/media.hpp"
#include "tools/client/media_ref.hpp"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace parley::chat {

namespace {

/// The largest thumbnail sent along: the whole message must stay within the
/// node's payload limit (64 KiB by default).
constexpr size_t max_thumbnail = 32 * 1024;

/// Media tokens asked over a short login of their own, so that a long upload
/// holds no idle chat connection open.
client::token_source node_tokens(context& ctx, const identity& id) {
  return [&ctx, id](wire::MediaAction action, const std::string& sha, uint64_t size,
                    const std::vector<std::string>& recipients)
           -> client::outcome<client::media_grant> {
    client::connection conn(ctx.server);
    if (auto ok = conn.connect(); !ok)
      return ok.error();
    if (auto ok = conn.login(ctx.user, id); !ok)
      return ok.error();
    auto grant = conn.media_token(action, sha, size, recipients);
    conn.logout();
    return grant;
  };
}

client::media_options media_options_for(const context& ctx) {
  client::media_options opts;
  opts.url = ctx.media_url;
  opts.timeout = std::max<std::chrono::milliseconds>(ctx.server.timeout,
                                                     std::chrono::seconds(10));
  return opts;
}

/// A file name safe to create in the current folder.
std::string safe_file_name(const client::media_ref& ref) {
  auto name = ref.file_name;
  if (auto slash = name.rfind('/'); slash != std::string::npos)
    name = name.substr(slash + 1);
  if (name.empty() || name == "." || name == ".." || name.front() == '.')
    name = "media-" + media_id_text(ref);
  return name;
}

} // namespace

int run_send_file(context& ctx, const std::string& to, const std::string& path,
                  const std::string& mime_type, const std::string& thumbnail_path) {
  auto d = device::open(ctx, false);
  if (!d)
    return exit_failed;
  std::string thumbnail;
  if (!thumbnail_path.empty()) {
    std::ifstream in(thumbnail_path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    thumbnail = bytes.str();
    if (!in || thumbnail.empty() || thumbnail.size() > max_thumbnail) {
      ctx.out.print(local_failure("a thumbnail must be a readable file of 1 to "
                                  + std::to_string(max_thumbnail) + " bytes"));
      return exit_usage;
    }
  }
  auto sent = client::send_media(path, mime_type, {to}, node_tokens(ctx, d->id()),
                                 media_options_for(ctx));
  if (!sent) {
    ctx.out.print(sent.error());
    return exit_failed;
  }
  auto ref = sent->ref;
  ref.thumbnail = std::move(thumbnail);
  ctx.out.media_done("uploaded", ref, path, sent->resumed_at);
  // The blob is stored; the message that names it goes like any other.
  if (auto m = d->store().enqueue(to, client::encode_media_payload(ref)); !m) {
    ctx.out.print(m.error());
    return exit_failed;
  }
  return send_outbox(ctx, *d);
}

int run_fetch(context& ctx, const std::string& wanted, const std::string& out) {
  auto id = load_identity(ctx);
  if (!id)
    return exit_failed;
  auto store = open_store(ctx);
  if (!store)
    return exit_failed;
  auto prefix = wanted;
  for (auto& c : prefix)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (prefix.size() < 8) {
    ctx.out.print(local_failure("give at least 8 hex digits of the media id"));
    return exit_usage;
  }
  auto messages = store->all_messages();
  if (!messages) {
    ctx.out.print(messages.error());
    return exit_failed;
  }
  std::optional<client::media_ref> found;
  std::set<std::string> matches;
  for (auto& m : *messages) {
    auto ref = client::decode_media_payload(m.body);
    if (!ref || to_hex(ref->id).compare(0, prefix.size(), prefix) != 0)
      continue;
    matches.insert(ref->id);
    found = std::move(ref);
  }
  if (matches.empty()) {
    ctx.out.print(local_failure("no media message with id " + wanted + " on this device"));
    return exit_failed;
  }
  if (matches.size() > 1) {
    ctx.out.print(local_failure("several media messages start with " + wanted
                                + "; give more of the id"));
    return exit_usage;
  }
  auto path = out.empty() ? safe_file_name(*found) : out;
  auto fetched = client::fetch_media(*found, path, node_tokens(ctx, *id),
                                     media_options_for(ctx));
  if (!fetched) {
    ctx.out.print(fetched.error());
    return exit_failed;
  }
  ctx.out.media_done("fetched", *found, path, fetched->resumed_at);
  return exit_done;
}

} // namespace parley::chat
