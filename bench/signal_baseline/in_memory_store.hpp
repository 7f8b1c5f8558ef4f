#pragma once
// One party's libsignal-protocol-c storage kept in memory: sessions, pre-keys, signed
// pre-keys and the identity key. Records are kept serialised exactly as the library hands
// them over, so each encrypt/decrypt pays the library's own load/store cost and no disk I/O.

#include <signal_protocol.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace samizdat::bench::signal_baseline {

class InMemorySignalStore {
 public:
  using Record = std::vector<uint8_t>;

  // Creates the store context with a fresh identity key pair and registration id.
  // Throws std::runtime_error if the library fails; the store must outlive every
  // session builder or cipher made from context().
  explicit InMemorySignalStore(signal_context* global_context);
  ~InMemorySignalStore();
  InMemorySignalStore(const InMemorySignalStore&) = delete;
  InMemorySignalStore& operator=(const InMemorySignalStore&) = delete;

  signal_protocol_store_context* context() const { return store_context_; }
  ratchet_identity_key_pair* identity() const { return identity_; }
  uint32_t registration_id() const { return registration_id_; }

  // Callback tables; public only so the C callbacks in the .cpp can reach the maps.
  using AddressKey = std::pair<std::string, int32_t>;
  std::map<AddressKey, Record> sessions;
  std::map<uint32_t, Record> pre_keys;
  std::map<uint32_t, Record> signed_pre_keys;
  std::map<AddressKey, Record> identities;
  Record identity_public;
  Record identity_private;

 private:
  signal_protocol_store_context* store_context_ = nullptr;
  ratchet_identity_key_pair* identity_ = nullptr;
  uint32_t registration_id_ = 0;
};

}  // namespace samizdat::bench::signal_baseline
