#include "tools/client/e2e/session.hpp"

#include "schema/e2e.capnp.h"
#include "tools/client/e2e/capnp_io.hpp"
#include "tools/client/e2e/x3dh.hpp"

namespace parley::e2e {

result<session> session::initiate(const identity_key_pair& self,
                                  const prekey_bundle& bundle) {
  auto agreed = x3dh_initiate(self, bundle);
  if (!agreed)
    return agreed.failure();
  auto ratchet = ratchet_init_initiator(agreed->secret.shared, agreed->remote_ratchet_key);
  if (!ratchet)
    return ratchet.failure();
  session s;
  s.local_identity_ = self.ed25519_public();
  s.remote_identity_ = bundle.identity_key;
  s.base_key_ = agreed->header.base_key;
  s.initiator_ = true;
  s.ratchet_ = std::move(*ratchet);
  s.pending_ = pending_prekey{agreed->header.signed_prekey_id,
                              agreed->header.one_time_prekey_id};
  return s;
}

result<accepted_session> session::accept(const identity_key_pair& self,
                                         const signed_prekey& spk,
                                         const one_time_prekey* otk,
                                         const prekey_message& msg) {
  auto agreed = x3dh_respond(self, spk, otk, msg.x3dh);
  if (!agreed)
    return agreed.failure();
  session s;
  s.local_identity_ = self.ed25519_public();
  s.remote_identity_ = msg.x3dh.identity_key;
  s.base_key_ = msg.x3dh.base_key;
  s.initiator_ = false;
  s.ratchet_ = ratchet_init_responder(agreed->shared, spk.pair);
  auto plaintext = ratchet_decrypt(s.ratchet_, msg.message, agreed->ad);
  if (!plaintext)
    return plaintext.failure();
  return accepted_session{std::move(s), std::move(*plaintext),
                          msg.x3dh.one_time_prekey_id};
}

std::string session::ad() const {
  return initiator_ ? x3dh_ad(local_identity_, remote_identity_)
                    : x3dh_ad(remote_identity_, local_identity_);
}

result<std::string> session::encrypt(std::string_view plaintext) {
  auto msg = ratchet_encrypt(ratchet_, plaintext, ad());
  if (!msg)
    return msg.failure();
  envelope env;
  if (pending_) {
    x3dh_header h{local_identity_, base_key_, pending_->signed_prekey_id,
                  pending_->one_time_prekey_id};
    env.body = prekey_message{h, std::move(*msg)};
  } else {
    env.body = std::move(*msg);
  }
  return encode(env);
}

result<std::string> session::decrypt(const envelope& env) {
  if (auto p = env.prekey(); p != nullptr && !belongs_to(*p))
    return error::not_this_session;
  auto plaintext = ratchet_decrypt(ratchet_, env.message(), ad());
  if (plaintext)
    pending_.reset();  // the peer has the session: no more prekey messages
  return plaintext;
}

bool session::belongs_to(const prekey_message& msg) const noexcept {
  return !initiator_ && msg.x3dh.identity_key == remote_identity_
         && msg.x3dh.base_key == base_key_;
}

// -- encode / decode -------------------------------------------------------------

namespace {

constexpr uint8_t record_version = 1;

std::string_view optional_view(const std::optional<public_key>& x) {
  return x ? view(*x) : std::string_view{};
}

std::string_view optional_view(const std::optional<key32>& x) {
  return x ? x->view() : std::string_view{};
}

/// Empty bytes are none; 32 bytes are a key; anything else is malformed.
template <class T, class Make>
bool get_optional(capnp::Data::Reader in, std::optional<T>& out, Make make) {
  if (in.size() == 0)
    return true;
  auto x = make(parley::view(in));
  if (!x)
    return false;
  out = *x;
  return true;
}

} // namespace

std::string encode(const session& x) {
  auto& r = x.ratchet_;
  // Enough for the whole record in the builder's first (wiped) segment: a
  // skipped key takes 11 words.
  detail::wiped_builder message(256 + 16 * r.skipped.size());
  auto root = message.get().initRoot<schema::SessionState>();
  root.setVersion(record_version);
  root.setLocalIdentity(as_data(view(x.local_identity_)));
  root.setRemoteIdentity(as_data(view(x.remote_identity_)));
  root.setInitiator(x.initiator_);
  root.setBaseKey(as_data(view(x.base_key_)));
  root.setRootKey(as_data(r.root.view()));
  root.setRatchetSecret(as_data(r.self.priv.view()));
  root.setRemoteRatchetKey(as_data(optional_view(r.remote)));
  root.setSendingChain(as_data(optional_view(r.sending)));
  root.setReceivingChain(as_data(optional_view(r.receiving)));
  root.setSendCount(r.ns);
  root.setReceiveCount(r.nr);
  root.setPreviousCount(r.pn);
  auto skipped = root.initSkipped(static_cast<unsigned>(r.skipped.size()));
  for (size_t i = 0; i < r.skipped.size(); ++i) {
    auto out = skipped[static_cast<unsigned>(i)];
    out.setRatchetKey(as_data(view(r.skipped[i].dh)));
    out.setCount(r.skipped[i].n);
    out.setMessageKey(as_data(r.skipped[i].key.view()));
  }
  if (x.pending_) {
    auto p = root.getPending().initPrekey();
    p.setSignedPrekeyId(x.pending_->signed_prekey_id);
    if (x.pending_->one_time_prekey_id)
      p.getOneTimePrekey().setId(*x.pending_->one_time_prekey_id);
    else
      p.getOneTimePrekey().setNone();
  } else {
    root.getPending().setNone();
  }
  return message.bytes();
}

result<session> decode_session(std::string_view bytes) {
  return detail::read_record<schema::SessionState>(
    bytes, [](schema::SessionState::Reader in) -> result<session> {
      if (in.getVersion() != record_version)
        return error::unsupported_version;
      auto local = to_public_key(parley::view(in.getLocalIdentity()));
      auto remote = to_public_key(parley::view(in.getRemoteIdentity()));
      auto base = to_public_key(parley::view(in.getBaseKey()));
      auto root_key = key32::from(parley::view(in.getRootKey()));
      auto ratchet_secret = key32::from(parley::view(in.getRatchetSecret()));
      if (!local || !remote || !base || !root_key || !ratchet_secret)
        return error::malformed;
      session s;
      s.local_identity_ = *local;
      s.remote_identity_ = *remote;
      s.base_key_ = *base;
      s.initiator_ = in.getInitiator();
      auto& r = s.ratchet_;
      r.root = *root_key;
      r.self = x25519_key_pair::from_secret(*ratchet_secret);
      auto make_key = [](std::string_view b) { return key32::from(b); };
      if (!get_optional(in.getRemoteRatchetKey(), r.remote, to_public_key)
          || !get_optional(in.getSendingChain(), r.sending, make_key)
          || !get_optional(in.getReceivingChain(), r.receiving, make_key))
        return error::malformed;
      // Skipped keys are filed under DHr: a receiving chain needs one.
      if (r.receiving && !r.remote)
        return error::malformed;
      r.ns = in.getSendCount();
      r.nr = in.getReceiveCount();
      r.pn = in.getPreviousCount();
      auto skipped = in.getSkipped();
      if (skipped.size() > max_skipped_keys)
        return error::malformed;
      r.skipped.reserve(skipped.size());
      for (auto k : skipped) {
        auto dh = to_public_key(parley::view(k.getRatchetKey()));
        auto mk = key32::from(parley::view(k.getMessageKey()));
        if (!dh || !mk)
          return error::malformed;
        r.skipped.push_back({*dh, k.getCount(), *mk});
      }
      if (in.getPending().isPrekey()) {
        auto p = in.getPending().getPrekey();
        session::pending_prekey pending;
        pending.signed_prekey_id = p.getSignedPrekeyId();
        if (p.getOneTimePrekey().isId())
          pending.one_time_prekey_id = p.getOneTimePrekey().getId();
        s.pending_ = pending;
      }
      return s;
    });
}

} // namespace parley::e2e
