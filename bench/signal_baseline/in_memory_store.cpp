#include "signal_baseline/in_memory_store.hpp"

#include <key_helper.h>

#include <stdexcept>

namespace samizdat::bench::signal_baseline {
namespace {

using Record = InMemorySignalStore::Record;

InMemorySignalStore& store_of(void* user_data) { return *static_cast<InMemorySignalStore*>(user_data); }

InMemorySignalStore::AddressKey key_of(const signal_protocol_address* address) {
  return {std::string(address->name, address->name_len), address->device_id};
}

Record copy_of(const uint8_t* data, size_t len) { return Record(data, data + len); }

// Hands a stored record to the library, which frees the buffer.
int give(signal_buffer** out, const Record& record) {
  *out = signal_buffer_create(record.data(), record.size());
  return *out != nullptr ? SG_SUCCESS : SG_ERR_NOMEM;
}

void check(int result, const char* what) {
  if (result != SG_SUCCESS) {
    throw std::runtime_error(std::string("libsignal-protocol-c: ") + what + " failed (" +
                             std::to_string(result) + ")");
  }
}

// Sessions -------------------------------------------------------------------------------

int load_session(signal_buffer** record, signal_buffer** user_record, const signal_protocol_address* address,
                 void* user_data) {
  auto& sessions = store_of(user_data).sessions;
  auto found = sessions.find(key_of(address));
  if (found == sessions.end()) return 0;
  *user_record = nullptr;
  return give(record, found->second) == SG_SUCCESS ? 1 : SG_ERR_NOMEM;
}

int get_sub_device_sessions(signal_int_list** sessions, const char* name, size_t name_len, void* user_data) {
  signal_int_list* list = signal_int_list_alloc();
  if (list == nullptr) return SG_ERR_NOMEM;
  std::string wanted(name, name_len);
  int count = 0;
  for (const auto& [key, record] : store_of(user_data).sessions) {
    if (key.first == wanted && key.second != 1) {
      signal_int_list_push_back(list, key.second);
      ++count;
    }
  }
  *sessions = list;
  return count;
}

int store_session(const signal_protocol_address* address, uint8_t* record, size_t record_len, uint8_t*,
                  size_t, void* user_data) {
  store_of(user_data).sessions[key_of(address)] = copy_of(record, record_len);
  return SG_SUCCESS;
}

int contains_session(const signal_protocol_address* address, void* user_data) {
  return store_of(user_data).sessions.count(key_of(address)) != 0 ? 1 : 0;
}

int delete_session(const signal_protocol_address* address, void* user_data) {
  return store_of(user_data).sessions.erase(key_of(address)) != 0 ? 1 : 0;
}

int delete_all_sessions(const char* name, size_t name_len, void* user_data) {
  auto& sessions = store_of(user_data).sessions;
  std::string wanted(name, name_len);
  int deleted = 0;
  for (auto it = sessions.begin(); it != sessions.end();) {
    if (it->first.first == wanted) {
      it = sessions.erase(it);
      ++deleted;
    } else {
      ++it;
    }
  }
  return deleted;
}

// Pre-keys and signed pre-keys share one shape: id -> serialised record ----------------

template <std::map<uint32_t, Record> InMemorySignalStore::*Table>
struct KeyTable {
  static int load(signal_buffer** record, uint32_t id, void* user_data) {
    auto& table = store_of(user_data).*Table;
    auto found = table.find(id);
    if (found == table.end()) return SG_ERR_INVALID_KEY_ID;
    return give(record, found->second);
  }
  static int store(uint32_t id, uint8_t* record, size_t record_len, void* user_data) {
    (store_of(user_data).*Table)[id] = copy_of(record, record_len);
    return SG_SUCCESS;
  }
  static int contains(uint32_t id, void* user_data) {
    return (store_of(user_data).*Table).count(id) != 0 ? 1 : 0;
  }
  static int remove(uint32_t id, void* user_data) {
    (store_of(user_data).*Table).erase(id);
    return SG_SUCCESS;
  }
};

using PreKeyTable = KeyTable<&InMemorySignalStore::pre_keys>;
using SignedPreKeyTable = KeyTable<&InMemorySignalStore::signed_pre_keys>;

// Identity ---------------------------------------------------------------------------------

int get_identity_key_pair(signal_buffer** public_data, signal_buffer** private_data, void* user_data) {
  auto& store = store_of(user_data);
  if (give(public_data, store.identity_public) != SG_SUCCESS) return SG_ERR_NOMEM;
  if (give(private_data, store.identity_private) != SG_SUCCESS) {
    signal_buffer_free(*public_data);
    return SG_ERR_NOMEM;
  }
  return SG_SUCCESS;
}

int get_local_registration_id(void* user_data, uint32_t* registration_id) {
  *registration_id = store_of(user_data).registration_id();
  return SG_SUCCESS;
}

int save_identity(const signal_protocol_address* address, uint8_t* key_data, size_t key_len,
                  void* user_data) {
  auto& identities = store_of(user_data).identities;
  if (key_data == nullptr) {
    identities.erase(key_of(address));
  } else {
    identities[key_of(address)] = copy_of(key_data, key_len);
  }
  return SG_SUCCESS;
}

// Trust on first use, as Signal clients do before the user verifies a safety number.
int is_trusted_identity(const signal_protocol_address* address, uint8_t* key_data, size_t key_len,
                        void* user_data) {
  auto& identities = store_of(user_data).identities;
  auto found = identities.find(key_of(address));
  if (found == identities.end()) return 1;
  return found->second == copy_of(key_data, key_len) ? 1 : 0;
}

Record serialized(int (*serialize)(signal_buffer**, const void*), const void* key) {
  signal_buffer* buffer = nullptr;
  check(serialize(&buffer, key), "serialising a key");
  Record out = copy_of(signal_buffer_data(buffer), signal_buffer_len(buffer));
  signal_buffer_bzero_free(buffer);
  return out;
}

}  // namespace

InMemorySignalStore::InMemorySignalStore(signal_context* global_context) {
  check(signal_protocol_key_helper_generate_identity_key_pair(&identity_, global_context),
        "generating an identity key pair");
  check(signal_protocol_key_helper_generate_registration_id(&registration_id_, 0, global_context),
        "generating a registration id");
  identity_public = serialized(
      [](signal_buffer** b, const void* k) {
        return ec_public_key_serialize(b, static_cast<const ec_public_key*>(k));
      },
      ratchet_identity_key_pair_get_public(identity_));
  identity_private = serialized(
      [](signal_buffer** b, const void* k) {
        return ec_private_key_serialize(b, static_cast<const ec_private_key*>(k));
      },
      ratchet_identity_key_pair_get_private(identity_));

  check(signal_protocol_store_context_create(&store_context_, global_context), "creating a store context");

  signal_protocol_session_store session_store{};
  session_store.load_session_func = load_session;
  session_store.get_sub_device_sessions_func = get_sub_device_sessions;
  session_store.store_session_func = store_session;
  session_store.contains_session_func = contains_session;
  session_store.delete_session_func = delete_session;
  session_store.delete_all_sessions_func = delete_all_sessions;
  session_store.user_data = this;
  check(signal_protocol_store_context_set_session_store(store_context_, &session_store),
        "setting the session store");

  signal_protocol_pre_key_store pre_key_store{};
  pre_key_store.load_pre_key = PreKeyTable::load;
  pre_key_store.store_pre_key = PreKeyTable::store;
  pre_key_store.contains_pre_key = PreKeyTable::contains;
  pre_key_store.remove_pre_key = PreKeyTable::remove;
  pre_key_store.user_data = this;
  check(signal_protocol_store_context_set_pre_key_store(store_context_, &pre_key_store),
        "setting the pre-key store");

  signal_protocol_signed_pre_key_store signed_store{};
  signed_store.load_signed_pre_key = SignedPreKeyTable::load;
  signed_store.store_signed_pre_key = SignedPreKeyTable::store;
  signed_store.contains_signed_pre_key = SignedPreKeyTable::contains;
  signed_store.remove_signed_pre_key = SignedPreKeyTable::remove;
  signed_store.user_data = this;
  check(signal_protocol_store_context_set_signed_pre_key_store(store_context_, &signed_store),
        "setting the signed pre-key store");

  signal_protocol_identity_key_store identity_store{};
  identity_store.get_identity_key_pair = get_identity_key_pair;
  identity_store.get_local_registration_id = get_local_registration_id;
  identity_store.save_identity = save_identity;
  identity_store.is_trusted_identity = is_trusted_identity;
  identity_store.user_data = this;
  check(signal_protocol_store_context_set_identity_key_store(store_context_, &identity_store),
        "setting the identity store");
}

InMemorySignalStore::~InMemorySignalStore() {
  if (store_context_ != nullptr) signal_protocol_store_context_destroy(store_context_);
  SIGNAL_UNREF(identity_);
}

}  // namespace samizdat::bench::signal_baseline
