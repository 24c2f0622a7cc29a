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
    group @13 :GroupRequest;
    groupSend @14 :GroupSend;
    messageInfo @15 :MessageInfoRequest;
    call @16 :CallSignal;
    turnCredentials @17 :Void;
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
# the same id is recognised and answered without a second delivery. Sends are
# stored in the order they arrive: after refusing one for a reason that may pass
# (unavailable, rateLimited, inboxFull, ...), the node refuses the later ones of
# that connection too (unavailable; inboxFull: any to that recipient) until that
# one is sent again, so none overtakes it.
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

# -- groups (README, "Groups") ---------------------------------------------------
#
# A group lives on its home node (rendezvous hash of its id). Every request names
# the group by its 16-byte id, which its creator chooses (a retried create is
# recognised). Answered by GroupState, or by an Error whose refersTo is the id.

struct GroupRequest {
  group @0 :Data;             # 16 bytes
  union {
    create @1 :GroupCreate;   # the creator becomes its first admin
    add @2 :List(Text);       # admins only
    remove @3 :List(Text);    # admins only
    leave @4 :Void;
    query @5 :Void;           # members only
    promote @6 :List(Text);   # admins only: make members admins
  }
}

struct GroupCreate {
  name @0 :Text;              # 1-64 bytes of UTF-8
  members @1 :List(Text);     # besides the creator
}

# A message to every member of a group, sent once: the group's home node puts it
# into each member's inbox. Answered by a Receipt (sent, with `group` set) once
# every member's home node has it durably. `epoch` is the GroupState epoch the
# payload was sealed for (sender keys, docs/e2e.md); staleGroup if the group
# changed since. A retransmission (same id) goes to the same recipients.
struct GroupSend {
  id @0 :Data;                # 16 bytes
  group @1 :Data;
  epoch @2 :UInt64;
  payload @3 :Data;
}

# Asks the group's home node where one of this user's group messages stands
# with each recipient; answered by MessageInfo.
struct MessageInfoRequest {
  group @0 :Data;
  id @1 :Data;
}

# -- calls (README, "Calls") -------------------------------------------------------
#
# Signalling between the two parties of a call. The node checks each signal
# against the call's state and passes it to the other party's connection; it is
# not stored, so a party that is not connected misses it. `payload` is end-to-end
# encrypted by the pairwise session (docs/e2e.md) and opaque to the node.

struct CallSignal {
  call @0 :Data;              # 16 bytes, chosen by the caller
  peer @1 :Text;              # to the node: the other party; from it: who sent it
  kind @2 :CallSignalKind;
  payload @3 :Data;           # SDP offer or answer, ICE candidate; may be empty
}

enum CallSignalKind {
  offer @0;                   # caller: starts the call
  ringing @1;                 # callee: the offer reached a device
  answer @2;                  # callee: its SDP answer
  ice @3;                     # either: an ICE candidate
  accept @4;                  # callee: picked up; the call is active
  reject @5;                  # callee: declined
  busy @6;                    # callee: in another call
  hangup @7;                  # either: ends the call (the caller: cancels it)
  timeout @8;                 # from the node only: nobody accepted in time
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
    group @12 :GroupState;
    groupNotice @13 :GroupNotice;
    messageInfo @14 :MessageInfo;
    call @15 :CallSignal;
    turnCredentials @16 :TurnCredentials;
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
  group @5 :Data;         # a group message: the group's id (16 bytes); empty otherwise
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
  group @5 :Data;         # a group message's tick: the group (peer is empty); the
                          # delivered and read ticks are the aggregate over its
                          # recipients (MessageInfo has each one's)
  moreIds @6 :List(Data); # more messages to the same peer with the same tick,
                          # acknowledged together: one inbox item, one seq
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

# The group as its home node holds it: the answer to every GroupRequest.
struct GroupState {
  group @0 :Data;
  name @1 :Text;
  epoch @2 :UInt64;           # counts membership changes; GroupSend names it
  members @3 :List(GroupMember);
}

struct GroupMember {
  user @0 :Text;
  admin @1 :Bool;
}

# A change of a group this user belongs (or belonged) to, from the inbox like a
# message; acknowledge it with AckReceipts.
struct GroupNotice {
  seq @0 :UInt64;
  group @1 :Data;
  name @2 :Text;
  epoch @3 :UInt64;           # the group's epoch after the change
  by @4 :Text;                # who made the change
  action @5 :GroupAction;
  members @6 :List(Text);     # whom it concerns (created: empty, it concerns
                              # every member: query the group)
  time @7 :Int64;
}

enum GroupAction {
  created @0;
  added @1;
  removed @2;
  left @3;
  promoted @4;
}

struct MessageInfo {
  group @0 :Data;
  id @1 :Data;
  time @2 :Int64;             # when it was sent
  recipients @3 :List(RecipientState);
}

struct RecipientState {
  user @0 :Text;
  state @1 :ReceiptState;     # sent: in the recipient's inbox, not yet on a device
  time @2 :Int64;             # of the latest change; 0 while sent
}

# Time-limited credentials for the TURN relay (coturn's REST API scheme):
# username is "<expiry unix time>:<user>", password base64(HMAC-SHA1(secret,
# username)).
struct TurnCredentials {
  username @0 :Text;
  password @1 :Text;
  ttlSeconds @2 :UInt32;
  uris @3 :List(Text);        # e.g. "turn:turn.example:3478?transport=udp"
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
  unknownGroup @27;       # no such group
  notGroupMember @28;     # the request needs membership of the group
  notGroupAdmin @29;      # the request needs an admin of the group
  groupTooLarge @30;      # more members than parley.max-group-members
  staleGroup @31;         # the group changed since the epoch the message was
                          # sealed for: fetch it (query) and seal again
  groupExists @32;        # a group with this id exists (and differs)
  callInvalid @33;        # the signal is not allowed in the call's state, or
                          # not from this party
  unknownCall @34;        # no such call (never offered, or long over)
  turnUnavailable @35;    # this node hands out no TURN credentials
  unknownMessage @36;     # no such message (MessageInfo: not sent to that group)
}
