// End-to-end encryption for a device: seals every message body before it leaves
// the device and opens what arrives, with the X3DH and Double Ratchet of
// tools/client/e2e (see docs/e2e.md). Its secrets (prekeys, sessions) and the
// identity keys contacts had when first seen live only in the device store.
//
// - On login it publishes a signed prekey and one-time prekeys once, and more
//   whenever the node says the supply runs low.
// - seal() starts a session from the peer's bundle (fetched from the node) the
//   first time, then encrypts; the outbox keeps the sealed payload so that a
//   retransmission repeats it byte for byte.
// - open() accepts a first (prekey) message or decrypts with the session; a
//   message that does not open is reported, never silently shown.
// - Trust on first use: a contact's identity key is remembered; when it changes
//   the new one is taken and the change is reported (key_changes()), so the user
//   can compare safety numbers.
#pragma once

#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e/keys.hpp"
#include "tools/client/keystore.hpp"

#include <string>
#include <vector>

namespace parley::client {

/// What turns message bodies into payloads and back; the reconnecting client
/// uses one if given.
class payload_codec {
public:
  virtual ~payload_codec() = default;

  /// Called after every login, with the connection to use.
  virtual outcome<done> on_login(connection& conn) = 0;

  /// The node asked for more one-time prekeys.
  virtual outcome<done> on_prekeys_low(connection& conn, uint32_t remaining) = 0;

  /// The payload for `body` to `peer`; may ask the node (for keys).
  virtual outcome<std::string> seal(connection& conn, const std::string& peer,
                                    const std::string& body) = 0;

  /// The body of `payload` from `peer`.
  virtual outcome<std::string> open(const std::string& peer,
                                    const std::string& payload) = 0;
};

class e2e_codec : public payload_codec {
public:
  /// How many one-time prekeys to publish at a time.
  static constexpr uint32_t prekey_batch = 100;

  /// `store` must outlive the codec.
  static outcome<std::unique_ptr<e2e_codec>> make(device_store& store, const identity& id,
                                                  std::string user);

  outcome<done> on_login(connection& conn) override;
  outcome<done> on_prekeys_low(connection& conn, uint32_t remaining) override;
  outcome<std::string> seal(connection& conn, const std::string& peer,
                            const std::string& body) override;
  outcome<std::string> open(const std::string& peer, const std::string& payload) override;

  /// Contacts whose identity key changed since last asked.
  std::vector<std::string> key_changes();

  /// The safety number with `peer` (60 digits, grouped), if this device has
  /// its identity key.
  outcome<std::string> safety_number(const std::string& peer);

private:
  e2e_codec(device_store& store, e2e::identity_key_pair me, std::string user);

  /// Remembers `peer`'s identity key; notes a change from the one seen before.
  outcome<done> check_identity(const std::string& peer, const e2e::public_key& key);

  outcome<done> publish_one_time(connection& conn, uint32_t count);

  device_store& store_;
  e2e::identity_key_pair me_;
  std::string user_;
  std::vector<std::string> changed_;
};

} // namespace parley::client
