#include "tools/chat/device.hpp"

#include "tools/client/message_id.hpp"

namespace parley::chat {

std::unique_ptr<device> device::open(context& ctx, bool receive) {
  std::unique_ptr<device> d{new device(ctx)};
  d->id_ = load_identity(ctx);
  if (!d->id_)
    return nullptr;
  d->store_ = open_store(ctx);
  if (!d->store_)
    return nullptr;
  d->codec_ = open_codec(ctx, *d->store_, *d->id_);
  if (!d->codec_)
    return nullptr;
  client::reconnect_options opts;
  opts.receive = receive;
  opts.codec = d->codec_.get();
  d->client_ = std::make_unique<client::reconnecting_client>(*d->store_, ctx.server,
                                                             ctx.user, *d->id_, opts);
  return d;
}

bool device::connect() {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + ctx_.server.timeout;
  std::optional<client::failure> why;
  while (!client_->connected()) {
    auto now = clock::now();
    if (now >= deadline)
      break;
    auto updates = client_->step(std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
      std::chrono::milliseconds(500)));
    if (!updates) {
      ctx_.out.print(updates.error());
      return false;
    }
    for (auto& u : *updates) {
      if (auto down = std::get_if<client::link_down>(&u))
        why = down->why;
      else if (!std::holds_alternative<client::link_up>(u))
        early_.push_back(std::move(u));
    }
    if (why && !client_->connected())
      break;  // no node now: don't wait for one
  }
  if (client_->connected())
    return true;
  ctx_.out.print(why ? *why : local_failure("could not log in in time"));
  return false;
}

std::optional<std::vector<client::update>> device::step(std::chrono::milliseconds wait) {
  auto updates = client_->step(early_.empty() ? wait : std::chrono::milliseconds(0));
  if (!updates) {
    ctx_.out.print(updates.error());
    return std::nullopt;
  }
  warn_key_changes(ctx_, *codec_);
  auto out = std::move(early_);
  early_.clear();
  out.insert(out.end(), std::make_move_iterator(updates->begin()),
             std::make_move_iterator(updates->end()));
  return out;
}

std::optional<std::string> parse_group(context& ctx, const std::string& text) {
  auto hex = text.empty() || text[0] != '#' ? text : text.substr(1);
  auto raw = from_hex(hex);
  if (!raw || raw->size() != 16) {
    ctx.out.print(local_failure("not a group id (32 hex digits): " + text));
    return std::nullopt;
  }
  return raw;
}

} // namespace parley::chat
