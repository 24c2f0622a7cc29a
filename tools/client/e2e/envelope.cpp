#include "tools/client/e2e/envelope.hpp"

#include "schema/e2e.capnp.h"
#include "tools/client/e2e/capnp_io.hpp"

namespace parley::e2e {

namespace {

void set_message(schema::RatchetMessage::Builder out, const ratchet_message& x) {
  out.setRatchetKey(as_data(view(x.header.dh)));
  out.setPreviousCount(x.header.pn);
  out.setCount(x.header.n);
  out.setCiphertext(as_data(x.ciphertext));
}

std::optional<ratchet_message> get_message(schema::RatchetMessage::Reader in) {
  auto dh = to_public_key(parley::view(in.getRatchetKey()));
  if (!dh)
    return std::nullopt;
  ratchet_message x;
  x.header = {*dh, in.getPreviousCount(), in.getCount()};
  x.ciphertext = parley::to_string(in.getCiphertext());
  return x;
}

} // namespace

std::string encode(const envelope& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Envelope>();
  root.setVersion(envelope_version);
  if (auto p = x.prekey()) {
    auto out = root.initPrekey();
    out.setIdentityKey(as_data(view(p->x3dh.identity_key)));
    out.setBaseKey(as_data(view(p->x3dh.base_key)));
    out.setSignedPrekeyId(p->x3dh.signed_prekey_id);
    if (p->x3dh.one_time_prekey_id)
      out.getOneTimePrekey().setId(*p->x3dh.one_time_prekey_id);
    else
      out.getOneTimePrekey().setNone();
    set_message(out.initMessage(), p->message);
  } else {
    set_message(root.initMessage(), x.message());
  }
  return detail::to_bytes(message);
}

result<envelope> decode_envelope(std::string_view bytes) {
  return detail::read_record<schema::Envelope>(
    bytes, [](schema::Envelope::Reader r) -> result<envelope> {
      if (r.getVersion() != envelope_version)
        return error::unsupported_version;
      switch (r.which()) {
        case schema::Envelope::PREKEY: {
          auto in = r.getPrekey();
          auto identity = to_public_key(parley::view(in.getIdentityKey()));
          auto base = to_public_key(parley::view(in.getBaseKey()));
          auto msg = get_message(in.getMessage());
          if (!identity || !base || !msg)
            return error::malformed;
          prekey_message p;
          p.x3dh.identity_key = *identity;
          p.x3dh.base_key = *base;
          p.x3dh.signed_prekey_id = in.getSignedPrekeyId();
          if (in.getOneTimePrekey().isId())
            p.x3dh.one_time_prekey_id = in.getOneTimePrekey().getId();
          p.message = std::move(*msg);
          return envelope{std::move(p)};
        }
        case schema::Envelope::MESSAGE: {
          auto msg = get_message(r.getMessage());
          if (!msg)
            return error::malformed;
          return envelope{std::move(*msg)};
        }
      }
      return error::malformed;  // a union member of a later schema
    });
}

} // namespace parley::e2e
