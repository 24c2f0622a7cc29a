# End-to-end encryption records (docs/e2e.md): the prekey bundle a user's home
# node stores and hands out, the envelope that travels in `Send.payload`, and the
# records a device keeps for itself (session state, prekey secrets). The node
# never needs to look inside any of them.
#
# Each has exactly one encode and one decode, in tools/client/e2e/. Evolve them
# the Cap'n Proto way: add fields, never renumber. Every top-level record carries a
# version; a decoder refuses a version it does not speak.

@0xfc1dc42382808d93;

$import "/capnp/c++.capnp".namespace("parley::e2e::schema");

# An X25519 public prekey and the id its owner knows it by.
struct PublicPrekey {
  id @0 :UInt32;
  key @1 :Data;               # X25519, 32 bytes
}

# What a key directory hands out for a user: everything another device needs to
# run X3DH with that user while the user is offline.
struct PrekeyBundle {
  version @0 :UInt8;          # 1
  identityKey @1 :Data;       # Ed25519, 32 bytes
  signedPrekey @2 :PublicPrekey;
  signedAt @3 :Int64;         # when the signed prekey was made, ms since the epoch
  signature @4 :Data;         # Ed25519 by identityKey, 64 bytes (docs/e2e.md, "What is signed")
  oneTimePrekey :union {
    none @5 :Void;
    prekey @6 :PublicPrekey;
  }
}

# The key directory on the home node stores what a user publishes as separate
# opaque records (wire PublishKeys), and answers a fetch with the registered
# identity key and one record of each kind (wire Bundle); the client assembles
# a PrekeyBundle from them.

# A signed prekey as published (PublishKeys.signedPrekey, Bundle.signedPrekey).
struct PublishedSignedPrekey {
  version @0 :UInt8;          # 1
  prekey @1 :PublicPrekey;
  signedAt @2 :Int64;         # ms since the epoch
  signature @3 :Data;         # Ed25519 by the identity key, 64 bytes
}

# A one-time prekey as published (an entry of PublishKeys.oneTimePrekeys,
# Bundle.oneTimePrekey).
struct PublishedOneTimePrekey {
  version @0 :UInt8;          # 1
  prekey @1 :PublicPrekey;
}

# -- the envelope: what goes into Send.payload --------------------------------

struct Envelope {
  version @0 :UInt8;          # 1
  union {
    prekey @1 :PrekeyMessage;     # sent by an initiator until the first reply
    message @2 :RatchetMessage;   # every other message
  }
}

# X3DH's initial message: which keys the initiator used, and a ratchet message.
struct PrekeyMessage {
  identityKey @0 :Data;       # the initiator's Ed25519 identity key, 32 bytes
  baseKey @1 :Data;           # the initiator's ephemeral X25519 key, 32 bytes
  signedPrekeyId @2 :UInt32;
  oneTimePrekey :union {
    none @3 :Void;
    id @4 :UInt32;
  }
  message @5 :RatchetMessage;
}

struct RatchetMessage {
  ratchetKey @0 :Data;        # the sender's current ratchet public key (X25519, 32 bytes)
  previousCount @1 :UInt32;   # PN: messages in the sender's previous sending chain
  count @2 :UInt32;           # N: this message's number in its sending chain
  ciphertext @3 :Data;        # XChaCha20-Poly1305, tag included
}

# -- device-local records (secret) --------------------------------------------

# One Double Ratchet session with one peer.
struct SessionState {
  version @0 :UInt8;          # 1
  localIdentity @1 :Data;     # Ed25519 public keys, 32 bytes each
  remoteIdentity @2 :Data;
  initiator @3 :Bool;         # whether this side ran X3DH as the initiator
  baseKey @4 :Data;           # the X3DH ephemeral key that started the session
  rootKey @5 :Data;           # RK
  ratchetSecret @6 :Data;     # DHs's private key (its public key is derived)
  remoteRatchetKey @7 :Data;  # DHr; empty when none yet
  sendingChain @8 :Data;      # CKs; empty when none yet
  receivingChain @9 :Data;    # CKr; empty when none yet
  sendCount @10 :UInt32;      # Ns
  receiveCount @11 :UInt32;   # Nr
  previousCount @12 :UInt32;  # PN
  skipped @13 :List(SkippedKey);  # MKSKIPPED, oldest first
  pending :union {
    none @14 :Void;
    prekey @15 :PendingPrekey;  # initiator: no reply yet, keep sending prekey messages
  }
}

struct SkippedKey {
  ratchetKey @0 :Data;
  count @1 :UInt32;
  messageKey @2 :Data;
}

struct PendingPrekey {
  signedPrekeyId @0 :UInt32;
  oneTimePrekey :union {
    none @1 :Void;
    id @2 :UInt32;
  }
}

struct SignedPrekeySecret {
  version @0 :UInt8;          # 1
  id @1 :UInt32;
  secretKey @2 :Data;         # X25519 private key, 32 bytes
  signature @3 :Data;
  signedAt @4 :Int64;
}

struct OneTimePrekeySecret {
  version @0 :UInt8;          # 1
  id @1 :UInt32;
  secretKey @2 :Data;         # X25519 private key, 32 bytes
}

# -- groups: sender keys (docs/e2e.md, "Groups: sender keys") ------------------

# What one member hands each other member over their pairwise session, inside a
# Content: everything needed to decrypt this member's group messages from the
# given iteration on.
struct SenderKeyDistribution {
  version @0 :UInt8;          # 1
  group @1 :Data;             # 16 bytes
  keyId @2 :UInt32;           # random; changes whenever the key is replaced
  iteration @3 :UInt32;       # the chain key's position
  chainKey @4 :Data;          # 32 bytes
  signingKey @5 :Data;        # Ed25519 public key, 32 bytes
}

# What goes into GroupSend.payload.
struct SenderKeyMessage {
  version @0 :UInt8;          # 1
  keyId @1 :UInt32;
  iteration @2 :UInt32;
  ciphertext @3 :Data;        # XChaCha20-Poly1305, tag included
  signature @4 :Data;         # Ed25519 by the sender key's signing key, 64 bytes
}

# A sender key as a device keeps it (secret): its own, which can encrypt, or
# another member's, which can only decrypt.
struct SenderKeyState {
  version @0 :UInt8;          # 1
  group @1 :Data;             # 16 bytes
  sender @2 :Text;
  keyId @3 :UInt32;
  iteration @4 :UInt32;       # of chainKey: the next message key's iteration
  chainKey @5 :Data;
  signingKey @6 :Data;        # Ed25519 public key
  signingSecret @7 :Data;     # own key only: the 64-byte Ed25519 secret key
  skipped @8 :List(SkippedGroupKey);  # oldest first
}

struct SkippedGroupKey {
  iteration @0 :UInt32;
  messageKey @1 :Data;
}

# -- the plaintext of a pairwise message --------------------------------------

# What the Double Ratchet encrypts between two users: a message body, or
# something the client itself acts on. Tagging it keeps one kind from being
# passed off as another (a call signal as a chat message).
struct Content {
  union {
    body @0 :Data;                      # a message as the user wrote it
    senderKey @1 :SenderKeyDistribution;
    call @2 :CallContent;
  }
}

# A call signal's payload, with the call and the kind of signal repeated inside
# the encryption so that the node cannot change either unseen.
struct CallContent {
  call @0 :Data;              # 16 bytes
  kind @1 :UInt16;            # as wire CallSignalKind
  data @2 :Data;              # SDP or ICE candidate; may be empty
}
