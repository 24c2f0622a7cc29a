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
  }

  struct Message {
    from @0 :Text;
    id @1 :Data;
    payload @2 :Data;
  }

  struct Receipt {
    peer @0 :Text;          # the recipient whose device produced the receipt
    id @1 :Data;
    state @2 :UInt8;        # 1 delivered, 2 read (as wire ReceiptState)
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
}
