#include "tools/chat/device.hpp"

#include "tools/client/message_id.hpp"

namespace parley::chat {

namespace {

client::failure local_failure(std::string message) {
  return client::failure{client::failure::kind::local, wire::ErrorCode::INTERNAL,
                         std::move(message)};
}

} // namespace

std::unique_ptr<device> device::open(context& ctx, bool receive) {
  std::unique_ptr<device> d{new device(ctx)};
  auto id = ctx.keys.load(ctx.user);
  if (!id) {
    ctx.out.print(local_failure("no key for " + ctx.user + " in " + ctx.keys.home()
                                + "; run 'register' first"));
    return nullptr;
  }
  auto store = client::device_store::open_for(ctx.keys.home(), ctx.user);
  if (!store) {
    ctx.out.print(store.error());
    return nullptr;
  }
  d->store_ = std::move(*store);
  auto codec = client::e2e_codec::make(*d->store_, *id, ctx.user);
  if (!codec) {
    ctx.out.print(codec.error());
    return nullptr;
  }
  d->codec_ = std::move(*codec);
  client::reconnect_options opts;
  opts.receive = receive;
  opts.codec = d->codec_.get();
  d->client_ = std::make_unique<client::reconnecting_client>(*d->store_, ctx.server,
                                                             ctx.user, *id, opts);
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
  for (auto& peer : codec_->key_changes())
    ctx_.out.warning("identityChanged", peer,
                     peer + "'s identity key changed: compare safety numbers "
                            "(parley-chat safety-number " + peer + ")");
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
