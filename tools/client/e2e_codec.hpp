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
// - Pairwise plaintexts are tagged (e2e/content.hpp): a message body, a sender
//   key, or a call signal's payload; each is accepted only where it belongs.
// - Groups (sender keys, e2e/sender_key.hpp): seal_group() encrypts once with
//   this device's sender key for the group, after handing that key, over the
//   pairwise sessions, to every member who lacks it; the key is replaced first
//   when someone who had it is no longer a member. open() takes in the sender
//   keys others hand us; open_group() decrypts with them.
#pragma once

#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e/content.hpp"
#include "tools/client/e2e/keys.hpp"
#include "tools/client/e2e/session.hpp"
#include "tools/client/keystore.hpp"

#include <functional>
#include <optional>
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

  /// The body of `payload` from `peer`; nothing when it was meant for this
  /// device itself (a sender key), which has taken it in.
  virtual outcome<std::optional<std::string>> open(const std::string& peer,
                                                   const std::string& payload) = 0;

  /// The payload for `body` to every member of `group` as it is now (its
  /// epoch is what the node checks); may send the members keys first.
  virtual outcome<std::string> seal_group(connection& conn, const group_info& group,
                                          const std::string& body) = 0;

  /// The body of a group message from `sender` (group: the 16-byte id).
  virtual outcome<std::string> open_group(const std::string& group,
                                          const std::string& sender,
                                          const std::string& payload) = 0;

  /// The payload of a call signal to `peer`.
  virtual outcome<std::string> seal_call(connection& conn, const std::string& peer,
                                         const std::string& call,
                                         wire::CallSignalKind kind,
                                         const std::string& data) = 0;

  /// The data of a call signal from its peer.
  virtual outcome<std::string> open_call(const call_event& signal) = 0;

  /// Whether a tick is for a message the codec itself sent (a sender key
  /// handed out), which it then forgets; the client drops such ticks.
  virtual outcome<bool> consumes(const receipt&) {
    return false;
  }
};

/// A codec that leaves everything as it is: bodies travel in clear. For tests
/// and tools that speak the protocol without end-to-end encryption.
class plain_codec : public payload_codec {
public:
  outcome<done> on_login(connection&) override {
    return done{};
  }
  outcome<done> on_prekeys_low(connection&, uint32_t) override {
    return done{};
  }
  outcome<std::string> seal(connection&, const std::string&,
                            const std::string& body) override {
    return body;
  }
  outcome<std::optional<std::string>> open(const std::string&,
                                           const std::string& payload) override {
    return std::optional<std::string>{payload};
  }
  outcome<std::string> seal_group(connection&, const group_info&,
                                  const std::string& body) override {
    return body;
  }
  outcome<std::string> open_group(const std::string&, const std::string&,
                                  const std::string& payload) override {
    return payload;
  }
  outcome<std::string> seal_call(connection&, const std::string&, const std::string&,
                                 wire::CallSignalKind, const std::string& data) override {
    return data;
  }
  outcome<std::string> open_call(const call_event& signal) override {
    return signal.payload;
  }
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
  outcome<std::optional<std::string>> open(const std::string& peer,
                                           const std::string& payload) override;
  outcome<std::string> seal_group(connection& conn, const group_info& group,
                                  const std::string& body) override;
  outcome<std::string> open_group(const std::string& group, const std::string& sender,
                                  const std::string& payload) override;
  outcome<std::string> seal_call(connection& conn, const std::string& peer,
                                 const std::string& call, wire::CallSignalKind kind,
                                 const std::string& data) override;
  outcome<std::string> open_call(const call_event& signal) override;
  outcome<bool> consumes(const receipt& r) override;

  /// Members this device handed its current sender key for `group` to.
  outcome<std::vector<std::string>> sender_key_holders(const std::string& group);

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

  /// The session with `peer` this device keeps, if there is one.
  outcome<std::optional<e2e::session>> stored_session(const std::string& peer);

  /// Encrypts a tagged plaintext for `peer` (starting a session if need be).
  outcome<std::string> seal_content(connection& conn, const std::string& peer,
                                    const std::string& plaintext);

  /// Decrypts a pairwise payload from `peer` into its tagged plaintext; keeps
  /// the session's new state only if `wanted` takes what it holds.
  outcome<e2e::content> open_content(const std::string& peer, const std::string& payload,
                                     const std::function<bool(const e2e::content&)>& wanted);

  device_store& store_;
  e2e::identity_key_pair me_;
  std::string user_;
  std::vector<std::string> changed_;
};

} // namespace parley::client
