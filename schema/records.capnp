# Records the store keeps in RocksDB. Each has exactly one encode and one decode,
# in actors/store/records.cpp. Evolve them like the wire protocol: add, never
# renumber, because old records stay on disk.

@0xd1a2b3c4e5f60719;

$import "/capnp/c++.capnp".namespace("parley::disk");

# Key "u" + name.
struct UserRecord {
  identityKey @0 :Data;
  registeredAt @1 :Int64;   # ms since the epoch
}

# Key "i" + name + 0x00 + big-endian seq: one item of a user's inbox, deleted
# once the user's device acknowledges it.
struct InboxRecord {
  time @0 :Int64;           # when it was stored, ms since the epoch
  union {
    message @1 :Message;
    receipt @2 :Receipt;
    notice @3 :Notice;
  }

  struct Message {
    from @0 :Text;
    id @1 :Data;
    payload @2 :Data;
    group @3 :Text;         # a group message: the group's id in hex; else empty
  }

  struct Receipt {
    peer @0 :Text;          # the recipient whose device produced the receipt
    id @1 :Data;
    state @2 :UInt8;        # 1 delivered, 2 read (as wire ReceiptState)
    group @3 :Text;         # an aggregate group receipt: the group (peer empty)
    moreIds @4 :List(Data); # the same tick for more messages to the same peer
  }

  # A change of one of the user's groups (wire GroupNotice).
  struct Notice {
    group @0 :Text;         # hex
    name @1 :Text;
    epoch @2 :UInt64;
    by @3 :Text;
    action @4 :UInt8;       # as wire GroupAction
    members @5 :List(Text);
  }
}

# Key "f" + member + 0x00 + big-endian seq: a receipt for a user homed on another
# member, kept until that member's store has taken it in.
struct ForwardRecord {
  to @0 :Text;              # the sender of the message
  from @1 :Text;            # its recipient
  id @2 :Data;
  state @3 :UInt8;          # as wire ReceiptState
  time @4 :Int64;
  kind @5 :UInt8;           # 0 a receipt for `to`; 1 a group member's receipt for
                            # the group's home; 2 a group's aggregate for `to`
  group @6 :Text;           # kinds 1 and 2: the group's id in hex
}

# Key "g" + group (hex): a group as its home node keeps it.
struct GroupRecord {
  name @0 :Text;
  epoch @1 :UInt64;
  createdBy @2 :Text;
  createdAt @3 :Int64;
  members @4 :List(Member);
  pending @5 :List(Notice);  # changes whose notices are not in every inbox yet

  struct Member {
    user @0 :Text;
    admin @1 :Bool;
  }

  struct Notice {
    epoch @0 :UInt64;       # the epoch the change made
    by @1 :Text;
    action @2 :UInt8;       # as wire GroupAction
    members @3 :List(Text);
    recipients @4 :List(Text);
    time @5 :Int64;
  }
}

# Key "x" + group + 0x00 + sender + 0x00 + id: a group message at the group's
# home node, written before its fan-out starts. Its recipients are fixed then:
# a retransmission goes to them again, and the aggregate receipts count them.
struct GroupMessageRecord {
  time @0 :Int64;
  recipients @1 :List(Text);
}
