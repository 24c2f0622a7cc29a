#include "tools/client/e2e/content.hpp"

#include "schema/e2e.capnp.h"
#include "tools/client/e2e/capnp_io.hpp"

namespace parley::e2e {

std::string encode(const content& x) {
  auto size = 64;
  if (auto t = std::get_if<text_body>(&x))
    size += static_cast<int>(t->text.size() / 8);
  else if (auto c = std::get_if<call_content>(&x))
    size += static_cast<int>(c->data.size() / 8);
  detail::wiped_builder message(static_cast<size_t>(size));
  auto root = message.get().initRoot<schema::Content>();
  if (auto t = std::get_if<text_body>(&x)) {
    root.setBody(as_data(t->text));
  } else if (auto k = std::get_if<sender_key_distribution>(&x)) {
    auto out = root.initSenderKey();
    out.setVersion(1);
    out.setGroup(as_data(k->group));
    out.setKeyId(k->key_id);
    out.setIteration(k->iteration);
    out.setChainKey(as_data(k->chain.view()));
    out.setSigningKey(as_data(view(k->signing_key)));
  } else {
    auto& c = std::get<call_content>(x);
    auto out = root.initCall();
    out.setCall(as_data(c.call));
    out.setKind(c.kind);
    out.setData(as_data(c.data));
  }
  return message.bytes();
}

result<content> decode_content(std::string_view bytes) {
  return detail::read_record<schema::Content>(
    bytes, [](schema::Content::Reader in) -> result<content> {
      switch (in.which()) {
        case schema::Content::BODY:
          return content{text_body{parley::to_string(in.getBody())}};
        case schema::Content::SENDER_KEY: {
          auto k = in.getSenderKey();
          if (k.getVersion() != 1)
            return error::unsupported_version;
          auto chain = key32::from(parley::view(k.getChainKey()));
          auto signing = to_public_key(parley::view(k.getSigningKey()));
          if (!chain || !signing || k.getGroup().size() != 16)
            return error::malformed;
          return content{sender_key_distribution{parley::to_string(k.getGroup()),
                                                 k.getKeyId(), k.getIteration(), *chain,
                                                 *signing}};
        }
        case schema::Content::CALL: {
          auto c = in.getCall();
          return content{call_content{parley::to_string(c.getCall()), c.getKind(),
                                      parley::to_string(c.getData())}};
        }
      }
      return error::malformed;  // a union member of a later schema
    });
}

} // namespace parley::e2e
