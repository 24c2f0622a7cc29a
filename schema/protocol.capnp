# parley's client protocol: what a client and a node say to each other over TCP.
#
# Every frame is one Cap'n Proto message in the standard stream framing (segment
# table, then segments), so `capnp decode schema/protocol.capnp ClientFrame` reads a
# captured client frame and `... ServerFrame` a server frame.
#
# Evolve it the Cap'n Proto way: add fields and union members with new numbers,
# never renumber or reuse one. Error codes are stable: add, never renumber.

@0xb7d5a4e3c2f10a91;

$import "/capnp/c++.capnp".namespace("parley::wire");

# -- client -> server ---------------------------------------------------------

struct ClientFrame {
  union {
    register @0 :Register;
    login @1 :Login;
    prove @2 :Prove;
    send @3 :Send;
    ack @4 :Ack;
    ackReceipts @5 :AckReceipts;
    heartbeat @6 :Void;
    lastSeen @7 :LastSeen;
    logout @8 :Void;
    watch @9 :Watch;
    publishKeys @10 :PublishKeys;
    fetchBundle @11 :FetchBundle;
    mediaToken @12 :MediaTokenRequest;
  }
}

# Claims a user name for an Ed25519 public key. Needs no login. Registering the
# same name with the same key again succeeds (a retried register is harmless).
struct Register {
  user @0 :Text;          # 1-32 characters of [a-z0-9._-]
  identityKey @1 :Data;   # Ed25519 public key, 32 bytes
}

# First step of the login: the server answers with a Challenge.
struct Login {
  user @0 :Text;
}

# Second step: an Ed25519 signature, by the user's identity key, over
# "parley-login-v1" followed by the challenge's nonce. The server answers Welcome.
struct Prove {
  signature @0 :Data;     # 64 bytes
}

# A message to another user. `id` is chosen by the client; a retransmission with
# the same id is recognised and answered without a second delivery.
struct Send {
  id @0 :Data;            # 16 bytes
  to @1 :Text;
  payload @2 :Data;       # opaque to the server; 64 KiB at most by default
}

struct Ack {
  peer @0 :Text;          # who sent the messages being acknowledged
  ids @1 :List(Data);
  state @2 :AckState;
}

enum AckState {
  delivered @0;           # the device has stored them: the server deletes them
  read @1;                # the user has seen them
}

# Receipts are kept in the inbox until the client says it has them.
struct AckReceipts {
  seqs @0 :List(UInt64);
}

# Asks for a user's presence; the server answers with a Presence frame.
struct LastSeen {
  user @0 :Text;
}

# Subscribes this connection to presence changes of these users.
struct Watch {
  users @0 :List(Text);
}

# End-to-end encryption's key directory (see docs/e2e.md). The node stores and
# hands out these keys without understanding them: each is an opaque record the
# clients define (schema/e2e.capnp), signed where it must be by the identity key.

# Publishes this user's signed prekey (replacing the old one, if given) and adds
# one-time prekeys to the supply others consume. Answered by KeysPublished; an
# empty PublishKeys just asks what the node holds.
struct PublishKeys {
  signedPrekey @0 :Data;            # empty: keep the current one
  oneTimePrekeys @1 :List(Data);
}

# Asks for another user's prekey bundle; answered by Bundle. Each answer
# consumes one of that user's one-time prekeys, if any are left.
struct FetchBundle {
  user @0 :Text;
}

# Asks for a short-lived token for the media service (docs/media.md), which
# takes files over HTTP, not over this connection. Answered by MediaToken, or
# by an Error whose refersTo is `sha256`.
struct MediaTokenRequest {
  action @0 :MediaAction;
  sha256 @1 :Data;            # 32 bytes: SHA-256 of the (encrypted) blob, its id
  size @2 :UInt64;            # upload: the blob's size in bytes; download: 0
  recipients @3 :List(Text);  # upload: who will download it (at most 64); the
                              # media service deletes it once each one has
}

enum MediaAction {
  upload @0;
  download @1;
}

# -- server -> client ---------------------------------------------------------

struct ServerFrame {
  union {
    challenge @0 :Challenge;
    welcome @1 :Welcome;
    registered @2 :Registered;
    deliver @3 :Deliver;
    receipt @4 :Receipt;
    presence @5 :Presence;
    error @6 :Error;
    pong @7 :Void;
    keysPublished @8 :KeysPublished;
    bundle @9 :Bundle;
    prekeysLow @10 :KeysPublished;
    mediaToken @11 :MediaToken;
  }
}

# The answer to a MediaTokenRequest: present `token` to the media service as
# "Authorization: Bearer <token>" (or "?token=") with the request for /media/<hex
# of sha256>. It is bound to this user, the action, the blob and (upload) its size
# and recipients.
struct MediaToken {
  action @0 :MediaAction;
  sha256 @1 :Data;
  token @2 :Text;
  expires @3 :Int64;          # ms since the epoch; ask again after it
  url @4 :Text;               # the media service as this node knows it, e.g.
                              # "http://media.example:8080"; empty if not configured
}

# How many one-time prekeys this user has left on its home node. Sent after a
# PublishKeys, and as prekeysLow when the supply runs low (at login, or when a
# fetch drops it under the threshold): publish more.
struct KeysPublished {
  oneTimePrekeys @0 :UInt32;
  hasSignedPrekey @1 :Bool;   # false: publish the signed prekey (again)
}

struct Bundle {
  user @0 :Text;
  identityKey @1 :Data;       # the Ed25519 key the user registered (and logs in with)
  signedPrekey @2 :Data;
  oneTimePrekey @3 :Data;     # empty when the supply is exhausted
}

struct Challenge {
  nonce @0 :Data;         # 32 random bytes
}

struct Welcome {
  user @0 :Text;
  serverTime @1 :Int64;          # milliseconds since the Unix epoch
  heartbeatSeconds @2 :UInt32;   # send a heartbeat at least this often
  maxPayload @3 :UInt32;         # the largest payload this node accepts
  maxPendingSends @4 :UInt32;    # unanswered sends a connection may have
}

struct Registered {
  user @0 :Text;
}

# A message from the recipient's inbox. `seq` numbers the recipient's inbox items
# (messages and receipts) in the order the home node stored them.
struct Deliver {
  seq @0 :UInt64;
  from @1 :Text;
  id @2 :Data;
  payload @3 :Data;
  serverTime @4 :Int64;   # when the home node stored it, ms since the epoch
}

# A tick for a message this user sent. `sent` answers a Send directly and has
# seq 0; `delivered` and `read` come from the inbox and must be acknowledged with
# AckReceipts.
struct Receipt {
  seq @0 :UInt64;
  id @1 :Data;
  peer @2 :Text;          # the recipient of the message
  state @3 :ReceiptState;
  time @4 :Int64;         # ms since the epoch
}

enum ReceiptState {
  sent @0;
  delivered @1;
  read @2;
}

struct Presence {
  user @0 :Text;
  online @1 :Bool;
  lastSeen @2 :Int64;     # ms since the epoch; 0 if never seen
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  refersTo @2 :Data;      # the id of the Send it answers, if any
  retryAfterMs @3 :UInt32;  # for retryable codes: when to try again (0: soon)
}

# Stable error codes. "retryable" means the same request may succeed later.
enum ErrorCode {
  internal @0;            # a bug or an unexpected failure on the node
  malformedFrame @1;      # not a valid frame; the connection is closed
  frameTooLarge @2;       # the frame header announced more than the limit; closed
  notLoggedIn @3;         # this request needs a login first
  badSignature @4;        # the proof did not verify; closed
  unknownUser @5;         # no such user
  nameTaken @6;           # another key registered this name
  invalidName @7;         # not 1-32 characters of [a-z0-9._-]
  invalidKey @8;          # not a 32-byte Ed25519 public key
  payloadTooLarge @9;     # payload over the node's limit
  invalidId @10;          # a message id that is not 16 bytes
  loginTimeout @11;       # no login in time; closed
  heartbeatTimeout @12;   # missed heartbeats; closed
  slowConsumer @13;       # the outgoing queue is full; closed, nothing lost
  replaced @14;           # the same user logged in on another connection; closed
  alreadyLoggedIn @15;    # login or register on a logged-in connection
  unexpected @16;         # a request out of order, e.g. prove without login
  unavailable @17;        # retryable: the node could not answer in time
  unsupported @18;        # a request this node does not know
  shuttingDown @19;       # the node is stopping; reconnect; closed
  limitExceeded @20;      # a per-connection limit, e.g. on watched users
  tooManyPending @21;     # retryable: more unanswered sends than maxPendingSends
  rateLimited @22;        # retryable after retryAfterMs: sending or logging in too fast
  inboxFull @23;          # retryable: the recipient has too many undelivered messages
  tooManyConnections @24; # retryable: the node is at its connection limit; closed
  noPrekeys @25;          # the user has published no signed prekey yet
  kicked @26;             # an operator closed this connection; closed
}
