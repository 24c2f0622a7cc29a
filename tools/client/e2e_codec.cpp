#include "tools/client/e2e_codec.hpp"

#include "tools/client/e2e/content.hpp"
#include "tools/client/e2e/envelope.hpp"
#include "tools/client/e2e/prekeys.hpp"
#include "tools/client/e2e/safety_number.hpp"
#include "tools/client/e2e/session.hpp"

#include "tools/client/message_id.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>

namespace parley::client {

namespace {

// Kinds of rows in the device store's secrets table.
constexpr const char* signed_kind = "signed-prekey";      // name: id
constexpr const char* one_time_kind = "one-time-prekey";  // name: id
constexpr const char* session_kind = "session";           // name: peer
constexpr const char* contact_kind = "identity";          // name: peer
constexpr const char* counter_kind = "counter";           // name: what
constexpr const char* own_sender_key_kind = "own-sender-key";  // name: group (hex)
constexpr const char* holders_kind = "sender-key-holders";     // name: group (hex)
constexpr const char* sender_key_kind = "sender-key";  // name: group/sender/key id
constexpr const char* handout_kind = "handout";  // name: id (hex) of a key handed out

std::string sender_key_name(const std::string& group, const std::string& sender,
                            uint32_t key_id) {
  return to_hex(group) + "/" + sender + "/" + std::to_string(key_id);
}

/// The members a sender key went to, one a line.
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    if (end > pos)
      out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

failure crypto(const std::string& what, e2e::error why) {
  return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                 what + ": " + std::string(e2e::to_string(why))};
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string as_string(const e2e::public_key& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

} // namespace

e2e_codec::e2e_codec(device_store& store, e2e::identity_key_pair me, std::string user)
  : store_(store), me_(std::move(me)), user_(std::move(user)) {
  // nop
}

outcome<std::unique_ptr<e2e_codec>> e2e_codec::make(device_store& store,
                                                    const identity& id,
                                                    std::string user) {
  auto me = e2e::identity_key_pair::from_ed25519(id.secret_key());
  if (!me)
    return crypto("identity key", me.failure());
  return std::unique_ptr<e2e_codec>(new e2e_codec(store, std::move(*me), std::move(user)));
}

// -- prekeys ------------------------------------------------------------------------

outcome<done> e2e_codec::on_login(connection& conn) {
  // What does the node hold of ours? (A new node, or one that lost its data,
  // holds nothing; another device of ours may have put its own keys there.)
  auto held = conn.publish_keys({}, {});
  if (!held)
    return held.error();
  auto stored = store_.secret(signed_kind, "1");
  if (!stored)
    return stored.error();
  std::string spk_published;
  if (!*stored || !held->has_signed_prekey) {
    std::optional<e2e::signed_prekey> spk;
    if (*stored) {
      auto decoded = e2e::decode_signed_prekey(**stored);
      if (!decoded)
        return crypto("our signed prekey", decoded.failure());
      spk.emplace(std::move(*decoded));
    } else {
      spk.emplace(e2e::signed_prekey::generate(me_, 1, now_ms()));
      // Keep the private half before the node hands out the public one.
      if (auto ok = store_.put_secret(signed_kind, "1", e2e::encode(*spk)); !ok)
        return ok;
    }
    spk_published = e2e::encode_published(*spk);
  }
  auto remaining = held->remaining;
  if (!spk_published.empty()) {
    auto sent = conn.publish_keys(spk_published, {});
    if (!sent)
      return sent.error();
    remaining = sent->remaining;
  }
  return on_prekeys_low(conn, remaining);
}

outcome<done> e2e_codec::on_prekeys_low(connection& conn, uint32_t remaining) {
  if (remaining >= prekey_batch / 2)
    return done{};
  return publish_one_time(conn, prekey_batch - remaining);
}

outcome<done> e2e_codec::publish_one_time(connection& conn, uint32_t count) {
  auto next = store_.secret(counter_kind, "next-one-time-id");
  if (!next)
    return next.error();
  // Ids start at random: a reinstalled device must not reuse the ids its
  // predecessor left on the node.
  uint32_t first = *next ? static_cast<uint32_t>(std::stoul(**next))
                         : randombytes_uniform(1u << 30) + 1;
  auto otks = e2e::one_time_prekey::generate(first, count);
  std::vector<std::string> published;
  auto kept = store_.transaction([&]() -> outcome<done> {
    for (auto& otk : otks) {
      if (auto ok = store_.put_secret(one_time_kind, std::to_string(otk.id),
                                      e2e::encode(otk));
          !ok)
        return ok;
      published.push_back(e2e::encode_published(otk));
    }
    return store_.put_secret(counter_kind, "next-one-time-id",
                             std::to_string(first + count));
  });
  if (!kept)
    return kept.error();
  auto sent = conn.publish_keys({}, published);
  if (!sent)
    return sent.error();
  return done{};
}

// -- sealing and opening --------------------------------------------------------

outcome<std::optional<e2e::session>> e2e_codec::stored_session(const std::string& peer) {
  auto saved = store_.secret(session_kind, peer);
  if (!saved)
    return saved.error();
  if (!*saved)
    return std::optional<e2e::session>{};
  auto decoded = e2e::decode_session(**saved);
  if (!decoded)
    return crypto("stored session with " + peer, decoded.failure());
  return std::optional<e2e::session>{std::move(*decoded)};
}

outcome<std::string> e2e_codec::seal_content(connection& conn, const std::string& peer,
                                             const std::string& plaintext) {
  auto stored = stored_session(peer);
  if (!stored)
    return stored.error();
  auto& sess = *stored;
  if (!sess) {
    auto b = conn.fetch_bundle(peer);
    if (!b)
      return b.error();
    auto bundle = e2e::bundle_from_directory(b->identity_key, b->signed_prekey,
                                             b->one_time_prekey);
    if (!bundle)
      return crypto("keys of " + peer, bundle.failure());
    auto started = e2e::session::initiate(me_, *bundle);
    if (!started)
      return crypto("keys of " + peer, started.failure());
    if (auto ok = check_identity(peer, started->remote_identity()); !ok)
      return ok.error();
    sess.emplace(std::move(*started));
  }
  auto payload = sess->encrypt(plaintext);
  if (!payload)
    return crypto("encrypting for " + peer, payload.failure());
  if (auto ok = store_.put_secret(session_kind, peer, e2e::encode(*sess)); !ok)
    return ok.error();
  return std::move(*payload);
}

outcome<e2e::content> e2e_codec::open_content(
  const std::string& peer, const std::string& payload,
  const std::function<bool(const e2e::content&)>& wanted) {
  // Decoded and checked before anything is kept: a payload refused for what it
  // holds uses up no key.
  auto check = [&](std::string& plaintext) -> outcome<e2e::content> {
    auto c = e2e::decode_content(plaintext);
    sodium_memzero(plaintext.data(), plaintext.size());
    if (!c)
      return crypto("message from " + peer, c.failure());
    if (!wanted(*c))
      return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                     "a payload from " + peer + " that is not what it claims to be"};
    return std::move(*c);
  };
  auto env = e2e::decode_envelope(payload);
  if (!env)
    return crypto("message from " + peer, env.failure());
  auto stored = stored_session(peer);
  if (!stored)
    return stored.error();
  auto& sess = *stored;
  auto prekey_msg = env->prekey();
  if (prekey_msg != nullptr && (!sess || !sess->belongs_to(*prekey_msg))) {
    // A first message: a new session from our prekeys (a reinstall or a
    // simultaneous start on their side replaces the one we had).
    auto& hdr = prekey_msg->x3dh;
    auto spk_bytes = store_.secret(signed_kind, std::to_string(hdr.signed_prekey_id));
    if (!spk_bytes)
      return spk_bytes.error();
    if (!*spk_bytes)
      return crypto("message from " + peer, e2e::error::wrong_prekey);
    auto spk = e2e::decode_signed_prekey(**spk_bytes);
    if (!spk)
      return crypto("our signed prekey", spk.failure());
    std::optional<e2e::one_time_prekey> otk;
    if (hdr.one_time_prekey_id) {
      auto otk_bytes = store_.secret(one_time_kind, std::to_string(*hdr.one_time_prekey_id));
      if (!otk_bytes)
        return otk_bytes.error();
      if (!*otk_bytes)  // used already: a replayed first message
        return crypto("message from " + peer, e2e::error::wrong_prekey);
      auto decoded = e2e::decode_one_time_prekey(**otk_bytes);
      if (!decoded)
        return crypto("our one-time prekey", decoded.failure());
      otk.emplace(std::move(*decoded));
    }
    auto accepted = e2e::session::accept(me_, *spk, otk ? &*otk : nullptr, *prekey_msg);
    if (!accepted)
      return crypto("message from " + peer, accepted.failure());
    auto c = check(accepted->plaintext);
    if (!c)
      return c;
    if (auto ok = check_identity(peer, accepted->opened.remote_identity()); !ok)
      return ok.error();
    if (accepted->used_one_time_prekey)
      if (auto ok = store_.erase_secret(one_time_kind,
                                        std::to_string(*accepted->used_one_time_prekey));
          !ok)
        return ok.error();
    if (auto ok = store_.put_secret(session_kind, peer, e2e::encode(accepted->opened));
        !ok)
      return ok.error();
    return c;
  }
  if (!sess)
    return crypto("message from " + peer + " (no session)", e2e::error::not_this_session);
  auto plain = sess->decrypt(*env);
  if (!plain)
    return crypto("message from " + peer, plain.failure());
  auto c = check(*plain);
  if (!c)
    return c;
  if (auto ok = store_.put_secret(session_kind, peer, e2e::encode(*sess)); !ok)
    return ok.error();
  return c;
}

// -- what travels: bodies, sender keys, call signals --------------------------------

outcome<std::string> e2e_codec::seal(connection& conn, const std::string& peer,
                                     const std::string& body) {
  return seal_content(conn, peer, e2e::encode(e2e::content{e2e::text_body{body}}));
}

outcome<std::optional<std::string>> e2e_codec::open(const std::string& peer,
                                                    const std::string& payload) {
  // A call signal's payload is never taken for a message.
  auto c = open_content(peer, payload, [](const e2e::content& x) {
    return !std::holds_alternative<e2e::call_content>(x);
  });
  if (!c)
    return c.error();
  if (auto body = std::get_if<e2e::text_body>(&*c))
    return std::optional<std::string>{std::move(body->text)};
  if (auto key = std::get_if<e2e::sender_key_distribution>(&*c)) {
    // Another member's key for a group: kept under its id, so that messages
    // sealed with an older key of theirs still open.
    auto k = e2e::sender_key::from_distribution(*key, peer);
    if (auto ok = store_.put_secret(sender_key_kind,
                                    sender_key_name(key->group, peer, key->key_id),
                                    e2e::encode(k));
        !ok)
      return ok.error();
    return std::optional<std::string>{};
  }
  return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                 "unexpected content from " + peer};
}

outcome<std::string> e2e_codec::seal_call(connection& conn, const std::string& peer,
                                          const std::string& call,
                                          wire::CallSignalKind kind,
                                          const std::string& data) {
  return seal_content(
    conn, peer,
    e2e::encode(e2e::content{e2e::call_content{call, static_cast<uint16_t>(kind), data}}));
}

outcome<std::string> e2e_codec::open_call(const call_event& signal) {
  // The node could relabel what it passes on: the sealed call and kind decide.
  auto c = open_content(signal.peer, signal.payload, [&](const e2e::content& x) {
    auto call = std::get_if<e2e::call_content>(&x);
    return call != nullptr && call->call == signal.call
           && call->kind == static_cast<uint16_t>(signal.kind);
  });
  if (!c)
    return c.error();
  return std::move(std::get<e2e::call_content>(*c).data);
}

// -- groups -------------------------------------------------------------------------

outcome<bool> e2e_codec::consumes(const receipt& r) {
  auto name = to_hex(r.id);
  auto known = store_.secret(handout_kind, name);
  if (!known)
    return known.error();
  if (!*known || **known != r.peer)
    return false;
  // Delivered is the last tick a key gets: nobody reads it.
  if (r.state != wire::ReceiptState::SENT)
    if (auto ok = store_.erase_secret(handout_kind, name); !ok)
      return ok.error();
  return true;
}

outcome<std::vector<std::string>> e2e_codec::sender_key_holders(const std::string& group) {
  auto held = store_.secret(holders_kind, to_hex(group));
  if (!held)
    return held.error();
  return *held ? split_lines(**held) : std::vector<std::string>{};
}

outcome<std::string> e2e_codec::seal_group(connection& conn, const group_info& group,
                                           const std::string& body) {
  auto name = to_hex(group.group);
  auto saved = store_.secret(own_sender_key_kind, name);
  if (!saved)
    return saved.error();
  auto holders = sender_key_holders(group.group);
  if (!holders)
    return holders.error();
  std::optional<e2e::sender_key> key;
  if (*saved) {
    auto decoded = e2e::decode_sender_key(**saved);
    if (!decoded)
      return crypto("our sender key for " + group.name, decoded.failure());
    key.emplace(std::move(*decoded));
  }
  // Someone who holds our key is no longer a member: a new key, which only the
  // members of now will get, so that they alone can read what follows.
  bool someone_left = std::any_of(holders->begin(), holders->end(),
                                  [&](const std::string& h) { return !group.has(h); });
  if (!key || someone_left) {
    key.emplace(e2e::sender_key::generate(group.group, user_));
    holders->clear();
    auto kept = store_.transaction([&]() -> outcome<done> {
      if (auto ok = store_.put_secret(own_sender_key_kind, name, e2e::encode(*key)); !ok)
        return ok;
      return store_.erase_secret(holders_kind, name);
    });
    if (!kept)
      return kept.error();
  }
  // Hand the key, as it stands before this message, to members who lack it.
  std::vector<connection::outgoing> handouts;
  std::vector<std::string> given;
  auto distribution = e2e::encode(e2e::content{key->distribution()});
  for (auto& m : group.members) {
    if (m.user == user_
        || std::find(holders->begin(), holders->end(), m.user) != holders->end())
      continue;
    auto sealed = seal_content(conn, m.user, distribution);
    if (!sealed)
      return sealed.error();
    handouts.push_back({m.user, new_message_id(), std::move(*sealed)});
    given.push_back(m.user);
  }
  sodium_memzero(distribution.data(), distribution.size());
  if (!handouts.empty()) {
    // Their sent ticks put the keys into the members' inboxes ahead of the
    // group message that needs them, which is posted only after.
    if (auto ok = conn.send_many(handouts, 64); !ok)
      return ok.error();
    holders->insert(holders->end(), given.begin(), given.end());
    auto kept = store_.transaction([&]() -> outcome<done> {
      // Their delivered ticks are ours to take, not the user's to see.
      for (auto& h : handouts)
        if (auto ok = store_.put_secret(handout_kind, to_hex(h.id), h.to); !ok)
          return ok;
      return store_.put_secret(holders_kind, name, join_lines(*holders));
    });
    if (!kept)
      return kept.error();
  }
  auto payload = key->encrypt(body);
  if (!payload)
    return crypto("encrypting for " + group.name, payload.failure());
  if (auto ok = store_.put_secret(own_sender_key_kind, name, e2e::encode(*key)); !ok)
    return ok.error();
  return std::move(*payload);
}

outcome<std::string> e2e_codec::open_group(const std::string& group,
                                           const std::string& sender,
                                           const std::string& payload) {
  auto msg = e2e::decode_sender_key_message(payload);
  if (!msg)
    return crypto("group message from " + sender, msg.failure());
  auto key_name = sender_key_name(group, sender, msg->key_id);
  auto saved = store_.secret(sender_key_kind, key_name);
  if (!saved)
    return saved.error();
  if (!*saved)
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                   "group message from " + sender + ": no sender key "
                     + std::to_string(msg->key_id) + " of theirs for this group"};
  auto key = e2e::decode_sender_key(**saved);
  if (!key)
    return crypto("sender key of " + sender, key.failure());
  auto plain = key->decrypt(*msg);
  if (!plain)
    return crypto("group message from " + sender, plain.failure());
  if (auto ok = store_.put_secret(sender_key_kind, key_name, e2e::encode(*key)); !ok)
    return ok.error();
  return std::move(*plain);
}

// -- identities ---------------------------------------------------------------------

outcome<done> e2e_codec::check_identity(const std::string& peer,
                                        const e2e::public_key& key) {
  auto known = store_.secret(contact_kind, peer);
  if (!known)
    return known.error();
  auto now = as_string(key);
  if (*known && **known == now)
    return done{};
  if (*known)
    changed_.push_back(peer);
  return store_.put_secret(contact_kind, peer, now);
}

std::vector<std::string> e2e_codec::key_changes() {
  return std::exchange(changed_, {});
}

outcome<std::string> e2e_codec::safety_number(const std::string& peer) {
  auto known = store_.secret(contact_kind, peer);
  if (!known)
    return known.error();
  if (!*known || (*known)->size() != 32)
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                   "no conversation with " + peer + " on this device yet"};
  e2e::public_key theirs;
  std::copy((*known)->begin(), (*known)->end(), theirs.begin());
  return e2e::format_safety_number(
    e2e::safety_number(me_.ed25519_public(), user_, theirs, peer));
}

} // namespace parley::client
