#include "tools/client/e2e/sender_key.hpp"

#include "schema/e2e.capnp.h"
#include "tools/client/e2e/big_endian.hpp"
#include "tools/client/e2e/capnp_io.hpp"
#include "tools/client/e2e/kdf.hpp"

#include <algorithm>
#include <limits>

namespace parley::e2e {

namespace {

constexpr uint8_t record_version = 1;
constexpr char header_layout_version = 0x01;
constexpr std::string_view message_key_info = "parley-e2e-v1 group message key";
constexpr std::string_view signature_context = "parley-e2e-v1 group message";
constexpr size_t tag_bytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t group_id_bytes = 16;

const unsigned char* bytes(std::string_view x) noexcept {
  return reinterpret_cast<const unsigned char*>(x.data());
}

/// The AEAD key (32) and nonce (24) of a message key; each message key
/// encrypts one message, so its nonce is never reused with its key.
secret<56> aead_key(const key32& mk) {
  secret<56> out;
  kdf::hkdf({}, mk.view(), message_key_info, out.data(), out.size());
  return out;
}

std::string signed_bytes(std::string_view header, std::string_view ciphertext) {
  std::string out(signature_context);
  out.append(header);
  out.append(ciphertext);
  return out;
}

} // namespace

std::string group_message_header(std::string_view group, std::string_view sender,
                                 uint32_t key_id, uint32_t iteration) {
  std::string out;
  out += header_layout_version;
  out.append(group);
  out += static_cast<char>(std::min<size_t>(sender.size(), 255));
  out.append(sender.substr(0, 255));
  detail::put_be32(out, key_id);
  detail::put_be32(out, iteration);
  return out;
}

// -- the key ------------------------------------------------------------------------

sender_key sender_key::generate(std::string_view group, std::string_view sender) {
  sender_key k;
  k.group_ = group;
  k.sender_ = sender;
  randombytes_buf(&k.key_id_, sizeof(k.key_id_));
  randombytes_buf(k.chain_.data(), k.chain_.size());
  crypto_sign_keypair(k.signing_public_.data(), k.signing_secret_.data());
  k.has_secret_ = true;
  return k;
}

sender_key sender_key::from_distribution(const sender_key_distribution& d,
                                         std::string_view sender) {
  sender_key k;
  k.group_ = d.group;
  k.sender_ = sender;
  k.key_id_ = d.key_id;
  k.iteration_ = d.iteration;
  k.chain_ = d.chain;
  k.signing_public_ = d.signing_key;
  return k;
}

sender_key_distribution sender_key::distribution() const {
  return sender_key_distribution{group_, key_id_, iteration_, chain_, signing_public_};
}

result<std::string> sender_key::encrypt(std::string_view plaintext) {
  if (!has_secret_)
    return error::cannot_send;
  if (iteration_ == std::numeric_limits<uint32_t>::max())
    return error::exhausted;
  auto step = kdf::chain(chain_);
  auto header = group_message_header(group_, sender_, key_id_, iteration_);
  auto k = aead_key(step.message);
  sender_key_message msg;
  msg.key_id = key_id_;
  msg.iteration = iteration_;
  msg.ciphertext.resize(plaintext.size() + tag_bytes);
  unsigned long long size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    reinterpret_cast<unsigned char*>(msg.ciphertext.data()), &size, bytes(plaintext),
    plaintext.size(), bytes(header), header.size(), nullptr, k.data() + 32, k.data());
  msg.ciphertext.resize(size);
  auto to_sign = signed_bytes(header, msg.ciphertext);
  crypto_sign_detached(msg.sig.data(), nullptr, bytes(to_sign), to_sign.size(),
                       signing_secret_.data());
  chain_ = step.chain;
  ++iteration_;
  return encode(msg);
}

result<std::string> sender_key::decrypt(const sender_key_message& msg) {
  if (msg.key_id != key_id_)
    return error::decrypt_failed;
  auto header = group_message_header(group_, sender_, msg.key_id, msg.iteration);
  auto to_verify = signed_bytes(header, msg.ciphertext);
  if (crypto_sign_verify_detached(msg.sig.data(), bytes(to_verify), to_verify.size(),
                                  signing_public_.data())
      != 0)
    return error::bad_signature;
  if (msg.ciphertext.size() < tag_bytes)
    return error::decrypt_failed;
  // Work on a copy: the key changes only if the message opens.
  auto next = *this;
  key32 mk;
  if (msg.iteration < iteration_) {
    auto i = std::find_if(next.skipped_.begin(), next.skipped_.end(),
                          [&](const skipped& s) { return s.iteration == msg.iteration; });
    if (i == next.skipped_.end())
      return error::decrypt_failed;  // used already, or from before our chain
    mk = i->key;
    next.skipped_.erase(i);
  } else {
    if (msg.iteration - iteration_ > max_group_skip)
      return error::too_far_ahead;
    if (msg.iteration == std::numeric_limits<uint32_t>::max())
      return error::exhausted;
    while (next.iteration_ < msg.iteration) {
      auto step = kdf::chain(next.chain_);
      next.skipped_.push_back(skipped{next.iteration_, step.message});
      next.chain_ = step.chain;
      ++next.iteration_;
    }
    auto step = kdf::chain(next.chain_);
    mk = step.message;
    next.chain_ = step.chain;
    ++next.iteration_;
    if (next.skipped_.size() > max_group_skipped)
      next.skipped_.erase(next.skipped_.begin(),
                          next.skipped_.begin()
                            + static_cast<ptrdiff_t>(next.skipped_.size()
                                                     - max_group_skipped));
  }
  auto k = aead_key(mk);
  std::string out(msg.ciphertext.size() - tag_bytes, '\0');
  unsigned long long size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(out.data()), &size, nullptr,
        bytes(msg.ciphertext), msg.ciphertext.size(), bytes(header), header.size(),
        k.data() + 32, k.data())
      != 0)
    return error::decrypt_failed;
  out.resize(size);
  *this = std::move(next);
  return out;
}

// -- records ------------------------------------------------------------------------

std::string encode(const sender_key_message& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::SenderKeyMessage>();
  root.setVersion(record_version);
  root.setKeyId(x.key_id);
  root.setIteration(x.iteration);
  root.setCiphertext(as_data(x.ciphertext));
  root.setSignature(as_data(view(x.sig)));
  return detail::to_bytes(message);
}

result<sender_key_message> decode_sender_key_message(std::string_view bytes) {
  return detail::read_record<schema::SenderKeyMessage>(
    bytes, [](schema::SenderKeyMessage::Reader in) -> result<sender_key_message> {
      if (in.getVersion() != record_version)
        return error::unsupported_version;
      auto sig = to_signature(parley::view(in.getSignature()));
      if (!sig)
        return error::malformed;
      return sender_key_message{in.getKeyId(), in.getIteration(),
                                parley::to_string(in.getCiphertext()), *sig};
    });
}

std::string encode(const sender_key& x) {
  // The whole record in the wiped first segment: a skipped key takes 6 words.
  detail::wiped_builder message(128 + 8 * x.skipped_.size());
  auto root = message.get().initRoot<schema::SenderKeyState>();
  root.setVersion(record_version);
  root.setGroup(as_data(x.group_));
  root.setSender(x.sender_);
  root.setKeyId(x.key_id_);
  root.setIteration(x.iteration_);
  root.setChainKey(as_data(x.chain_.view()));
  root.setSigningKey(as_data(view(x.signing_public_)));
  if (x.has_secret_)
    root.setSigningSecret(as_data(x.signing_secret_.view()));
  auto skipped = root.initSkipped(static_cast<unsigned>(x.skipped_.size()));
  for (unsigned i = 0; i < x.skipped_.size(); ++i) {
    skipped[i].setIteration(x.skipped_[i].iteration);
    skipped[i].setMessageKey(as_data(x.skipped_[i].key.view()));
  }
  return message.bytes();
}

result<sender_key> decode_sender_key(std::string_view bytes) {
  return detail::read_record<schema::SenderKeyState>(
    bytes, [](schema::SenderKeyState::Reader in) -> result<sender_key> {
      if (in.getVersion() != record_version)
        return error::unsupported_version;
      auto chain = key32::from(parley::view(in.getChainKey()));
      auto signing = to_public_key(parley::view(in.getSigningKey()));
      if (!chain || !signing || in.getGroup().size() != group_id_bytes
          || in.getSkipped().size() > max_group_skipped)
        return error::malformed;
      sender_key k;
      k.group_ = parley::to_string(in.getGroup());
      k.sender_ = parley::to_string(in.getSender());
      k.key_id_ = in.getKeyId();
      k.iteration_ = in.getIteration();
      k.chain_ = *chain;
      k.signing_public_ = *signing;
      if (in.getSigningSecret().size() > 0) {
        auto sk = secret<crypto_sign_SECRETKEYBYTES>::from(
          parley::view(in.getSigningSecret()));
        if (!sk)
          return error::malformed;
        k.signing_secret_ = *sk;
        k.has_secret_ = true;
      }
      for (auto s : in.getSkipped()) {
        auto mk = key32::from(parley::view(s.getMessageKey()));
        if (!mk)
          return error::malformed;
        k.skipped_.push_back(sender_key::skipped{s.getIteration(), *mk});
      }
      return k;
    });
}

} // namespace parley::e2e
