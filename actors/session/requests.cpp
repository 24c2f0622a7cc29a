#include "actors/session/requests.hpp"

#include "media/token.hpp"

#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "schema/rules.hpp"

#include <capnp/serialize.h>
#include <sodium.h>

namespace parley {

namespace {

bad_request invalid_name(std::string refers_to = {}) {
  return {wire::ErrorCode::INVALID_NAME, "names are 1-32 of [a-z0-9._-]",
          std::move(refers_to), false};
}

bad_request invalid_id() {
  return {wire::ErrorCode::INVALID_ID, "message ids are 16 bytes", {}, false};
}

request parse(wire::ClientFrame::Reader frame, const request_limits& limits) {
  switch (frame.which()) {
    case wire::ClientFrame::REGISTER: {
      auto r = frame.getRegister();
      register_request x{to_string(r.getUser()), to_string(r.getIdentityKey())};
      if (!valid_user_name(x.user))
        return invalid_name();
      if (x.identity_key.size() != identity_key_bytes
          || crypto_core_ed25519_is_valid_point(
               reinterpret_cast<const unsigned char*>(x.identity_key.data()))
               != 1)
        return bad_request{wire::ErrorCode::INVALID_KEY, "not an Ed25519 public key",
                           {}, false};
      return x;
    }
    case wire::ClientFrame::LOGIN: {
      login_request x{to_string(frame.getLogin().getUser())};
      if (!valid_user_name(x.user))
        return invalid_name();
      return x;
    }
    case wire::ClientFrame::PROVE: {
      prove_request x{to_string(frame.getProve().getSignature())};
      if (x.signature.size() != signature_bytes)
        return bad_request{wire::ErrorCode::BAD_SIGNATURE,
                           "login proof does not verify", {}, true};
      return x;
    }
    case wire::ClientFrame::SEND: {
      auto s = frame.getSend();
      auto id = to_string(s.getId());
      if (id.size() != message_id_bytes)
        return invalid_id();
      auto to = to_string(s.getTo());
      if (!valid_user_name(to))
        return invalid_name(id);
      if (s.getPayload().size() > limits.max_payload)
        return bad_request{wire::ErrorCode::PAYLOAD_TOO_LARGE, "payload over the limit",
                           id, false};
      return send_request{std::move(id), std::move(to), to_string(s.getPayload())};
    }
    case wire::ClientFrame::ACK: {
      auto a = frame.getAck();
      ack_request x;
      x.peer = to_string(a.getPeer());
      if (!valid_user_name(x.peer))
        return invalid_name();
      x.ids.reserve(a.getIds().size());
      for (auto id : a.getIds()) {
        if (id.size() != message_id_bytes)
          return invalid_id();
        x.ids.emplace_back(to_string(id));
      }
      x.state = a.getState() == wire::AckState::READ ? message_state::read
                                                     : message_state::delivered;
      return x;
    }
    case wire::ClientFrame::ACK_RECEIPTS: {
      ack_receipts_request x;
      x.seqs.reserve(frame.getAckReceipts().getSeqs().size());
      for (auto seq : frame.getAckReceipts().getSeqs())
        x.seqs.push_back(seq);
      return x;
    }
    case wire::ClientFrame::HEARTBEAT:
      return heartbeat_request{};
    case wire::ClientFrame::LAST_SEEN: {
      last_seen_request x{to_string(frame.getLastSeen().getUser())};
      if (!valid_user_name(x.user))
        return invalid_name();
      return x;
    }
    case wire::ClientFrame::LOGOUT:
      return logout_request{};
    case wire::ClientFrame::WATCH: {
      watch_request x;
      for (auto user : frame.getWatch().getUsers()) {
        x.users.emplace_back(to_string(user));
        if (!valid_user_name(x.users.back()))
          return invalid_name();
      }
      return x;
    }
    case wire::ClientFrame::PUBLISH_KEYS: {
      auto p = frame.getPublishKeys();
      publish_keys_request x{to_string(p.getSignedPrekey()), {}};
      auto too_big = bad_request{wire::ErrorCode::INVALID_KEY, "prekey record too large",
                                 {}, false};
      if (x.signed_prekey.size() > max_prekey_record)
        return too_big;
      for (auto key : p.getOneTimePrekeys()) {
        if (key.size() == 0 || key.size() > max_prekey_record)
          return too_big;
        x.one_time_prekeys.emplace_back(to_string(key));
      }
      return x;
    }
    case wire::ClientFrame::FETCH_BUNDLE: {
      fetch_bundle_request x{to_string(frame.getFetchBundle().getUser())};
      if (!valid_user_name(x.user))
        return invalid_name();
      return x;
    }
    case wire::ClientFrame::MEDIA_TOKEN: {
      auto m = frame.getMediaToken();
      media_token_request x;
      x.action = m.getAction();
      x.sha256 = to_string(m.getSha256());
      if (x.sha256.size() != 32)
        return bad_request{wire::ErrorCode::INVALID_ID,
                           "a media id is the blob's 32-byte SHA-256", x.sha256, false};
      if (x.action != wire::MediaAction::UPLOAD)
        return x;  // a download names nothing else
      x.size = m.getSize();
      if (m.getRecipients().size() > media::max_token_recipients)
        return bad_request{wire::ErrorCode::LIMIT_EXCEEDED,
                           "at most 64 recipients per media upload", x.sha256, false};
      for (auto user : m.getRecipients()) {
        x.recipients.emplace_back(to_string(user));
        if (!valid_user_name(x.recipients.back()))
          return invalid_name(x.sha256);
      }
      return x;
    }
  }
  return bad_request{wire::ErrorCode::UNSUPPORTED, "unknown request", {}, false};
}

} // namespace

request parse_request(kj::ArrayPtr<const capnp::word> frame,
                      const request_limits& limits) {
  try {
    capnp::FlatArrayMessageReader reader(frame, reader_options(frame.size()));
    return parse(reader.getRoot<wire::ClientFrame>(), limits);
  } catch (const kj::Exception&) {
    return bad_request{wire::ErrorCode::MALFORMED_FRAME, "malformed frame", {}, true};
  }
}

} // namespace parley
