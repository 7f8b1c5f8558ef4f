// KeyDirectory on SQLite: registrations and prekey changes go through the group-commit
// writer (taking a one-time prekey is a write), lookups through the reader pool.
#pragma once

#include <array>
#include <mutex>
#include <unordered_set>

#include "store/key_directory.hpp"
#include "store/sqlite/group_commit_writer.hpp"
#include "store/sqlite/reader_pool.hpp"
#include "store/sqlite/sqlite_mailbox_store.hpp"
#include "store/store_limits.hpp"

namespace samizdat::store::sqlite {

class SqliteKeyDirectory final : public KeyDirectory {
 public:
  SqliteKeyDirectory(GroupCommitWriter& writer, ReaderPool& readers, StoreLimits limits)
      : writer_(writer), readers_(readers), limits_(limits) {}

  void register_device(DeviceRecord device, DoneCallback done) override;
  Result<DeviceRecord> find_device_by_noise_key(const PublicKey& noise_static_key) override;
  Result<DeviceRecord> find_device_by_mailbox(const MailboxId& mailbox) override;
  Result<bool> is_registered(const MailboxId& mailbox) override;
  Result<std::vector<DeviceRecord>> find_devices_by_identity(const PublicKey& identity_key) override;
  void store_signed_prekey(const MailboxId& mailbox, SignedPrekey prekey, DoneCallback done) override;
  void add_one_time_prekeys(const MailboxId& mailbox, std::vector<OneTimePrekey> prekeys,
                            CountCallback done) override;
  void take_prekey_bundle(const MailboxId& mailbox, BundleCallback done) override;
  Result<std::size_t> count_one_time_prekeys(const MailboxId& mailbox) override;

 private:
  Status check_prekey_bytes(ByteView bytes, const char* what) const;
  void remember_registered(const MailboxId& mailbox);

  // Mailboxes known to have a committed registration (filled from committed reads and
  // after a registration's commit; never from an uncommitted batch). Sharded so the
  // session threads do not queue on one mutex.
  struct RegisteredShard {
    std::mutex mutex;
    std::unordered_set<MailboxId, MailboxIdHash> mailboxes;
  };
  RegisteredShard& registered_shard(const MailboxId& mailbox) {
    return registered_[mailbox[0] % registered_.size()];
  }
  std::array<RegisteredShard, 16> registered_;

  GroupCommitWriter& writer_;
  ReaderPool& readers_;
  StoreLimits limits_;
};

}  // namespace samizdat::store::sqlite
