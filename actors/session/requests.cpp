#include "actors/session/requests.hpp"

#include "media/token.hpp"

#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "schema/rules.hpp"

#include <capnp/serialize.h>
#include <sodium.h>

#include <optional>

namespace parley {

namespace {

bad_request invalid_name(std::string refers_to = {}) {
  return {wire::ErrorCode::INVALID_NAME, "names are 1-32 of [a-z0-9._-]",
          std::move(refers_to), false};
}

bad_request invalid_id() {
  return {wire::ErrorCode::INVALID_ID, "message ids are 16 bytes", {}, false};
}

bad_request invalid_group_id() {
  return {wire::ErrorCode::INVALID_ID, "group and call ids are 16 bytes", {}, false};
}

/// Names for a group request; nothing if one is invalid.
std::optional<std::vector<std::string>> names(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto name : list) {
    out.emplace_back(to_string(name));
    if (!valid_user_name(out.back()))
      return std::nullopt;
  }
  return out;
}

request parse_group(wire::GroupRequest::Reader g) {
  group_frame_request x;
  x.group = to_string(g.getGroup());
  if (x.group.size() != message_id_bytes)
    return invalid_group_id();
  std::optional<std::vector<std::string>> members;
  switch (g.which()) {
    case wire::GroupRequest::CREATE: {
      x.op = group_op::create;
      x.name = to_string(g.getCreate().getName());
      if (x.name.empty() || x.name.size() > max_group_name)
        return bad_request{wire::ErrorCode::INVALID_NAME,
                           "group names are 1-64 bytes", x.group, false};
      members = names(g.getCreate().getMembers());
      break;
    }
    case wire::GroupRequest::ADD:
      x.op = group_op::add;
      members = names(g.getAdd());
      break;
    case wire::GroupRequest::REMOVE:
      x.op = group_op::remove;
      members = names(g.getRemove());
      break;
    case wire::GroupRequest::LEAVE:
      x.op = group_op::leave;
      return x;
    case wire::GroupRequest::QUERY:
      x.op = group_op::query;
      return x;
    case wire::GroupRequest::PROMOTE:
      x.op = group_op::promote;
      members = names(g.getPromote());
      break;
    default:
      return bad_request{wire::ErrorCode::UNSUPPORTED, "unknown group request", x.group,
                         false};
  }
  if (!members)
    return invalid_name(x.group);
  x.members = std::move(*members);
  return x;
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
    case wire::ClientFrame::GROUP:
      return parse_group(frame.getGroup());
    case wire::ClientFrame::GROUP_SEND: {
      auto s = frame.getGroupSend();
      auto id = to_string(s.getId());
      if (id.size() != message_id_bytes)
        return invalid_id();
      auto group = to_string(s.getGroup());
      if (group.size() != message_id_bytes)
        return bad_request{wire::ErrorCode::INVALID_ID, "group ids are 16 bytes", id,
                           false};
      if (s.getPayload().size() > limits.max_payload)
        return bad_request{wire::ErrorCode::PAYLOAD_TOO_LARGE, "payload over the limit",
                           id, false};
      return group_send_request{std::move(id), std::move(group), s.getEpoch(),
                                to_string(s.getPayload())};
    }
    case wire::ClientFrame::MESSAGE_INFO: {
      auto m = frame.getMessageInfo();
      message_info_request x{to_string(m.getGroup()), to_string(m.getId())};
      if (x.id.size() != message_id_bytes)
        return invalid_id();
      if (x.group.size() != message_id_bytes)
        return bad_request{wire::ErrorCode::INVALID_ID, "group ids are 16 bytes", x.id,
                           false};
      return x;
    }
    case wire::ClientFrame::CALL: {
      auto c = frame.getCall();
      call_request x{to_string(c.getCall()), to_string(c.getPeer()),
                     static_cast<uint8_t>(c.getKind()), to_string(c.getPayload())};
      if (x.call.size() != message_id_bytes)
        return invalid_group_id();
      if (!valid_user_name(x.peer))
        return invalid_name(x.call);
      if (c.getKind() == wire::CallSignalKind::TIMEOUT
          || static_cast<uint16_t>(c.getKind())
               > static_cast<uint16_t>(wire::CallSignalKind::TIMEOUT))
        return bad_request{wire::ErrorCode::CALL_INVALID,
                           "only the node sends timeout", x.call, false};
      if (x.payload.size() > limits.max_payload)
        return bad_request{wire::ErrorCode::PAYLOAD_TOO_LARGE, "payload over the limit",
                           x.call, false};
      return x;
    }
    case wire::ClientFrame::TURN_CREDENTIALS:
      return turn_request{};
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
