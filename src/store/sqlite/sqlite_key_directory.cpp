#include "store/sqlite/sqlite_key_directory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "util/clock.hpp"

namespace samizdat::store::sqlite {
namespace {

constexpr const char* kSelectDevice =
    "SELECT mailbox, identity_key, device_id, noise_static_key, registered_at FROM devices ";

template <std::size_t N>
bool copy_fixed(ByteView from, std::array<std::uint8_t, N>& to) {
  if (from.size() != N) return false;
  std::memcpy(to.data(), from.data(), N);
  return true;
}

// Reads the row a kSelectDevice statement is on.
Result<DeviceRecord> read_device(Statement& stmt) {
  DeviceRecord device;
  if (!copy_fixed(stmt.column_blob(0), device.mailbox) ||
      !copy_fixed(stmt.column_blob(1), device.identity_key) ||
      !copy_fixed(stmt.column_blob(3), device.noise_static_key)) {
    return make_error(Errc::storage, "a device row has keys of the wrong size: the database is damaged");
  }
  device.device_id = static_cast<std::uint32_t>(stmt.column_int64(2));
  device.registered_at_ms = stmt.column_int64(4);
  return device;
}

// One device found by a single-column key, or nullopt.
Result<std::optional<DeviceRecord>> find_one(Connection& db, const char* sql, ByteView key) {
  auto stmt = SZ_TRY(db.prepare(sql));
  stmt->bind_no_copy(1, key);
  bool row = SZ_TRY(stmt->step("looking up a device"));
  if (!row) return std::optional<DeviceRecord>{};
  return std::optional<DeviceRecord>(SZ_TRY(read_device(*stmt)));
}

const std::string kByMailbox = std::string(kSelectDevice) + "WHERE mailbox = ?1";
const std::string kByNoiseKey = std::string(kSelectDevice) + "WHERE noise_static_key = ?1";

Result<std::int64_t> count_prekeys(Connection& db, const MailboxId& mailbox) {
  auto stmt = SZ_TRY(db.prepare("SELECT count(*) FROM one_time_prekeys WHERE mailbox = ?1"));
  stmt->bind_no_copy(1, ByteView(mailbox));
  SZ_TRY(stmt->step("counting one-time prekeys"));
  return stmt->column_int64(0);
}

Error unregistered(const MailboxId& mailbox) {
  return make_error(Errc::not_found,
                    fmt::format("{} has no registered device: register it first", describe_mailbox(mailbox)));
}

}  // namespace

Status SqliteKeyDirectory::check_prekey_bytes(ByteView bytes, const char* what) const {
  if (bytes.empty()) return make_error(Errc::invalid_argument, fmt::format("the {} is empty", what));
  if (bytes.size() > limits_.max_prekey_bytes) {
    return make_error(Errc::limit_exceeded, fmt::format("the {} is {} bytes, more than the {} allowed", what,
                                                        bytes.size(), limits_.max_prekey_bytes));
  }
  return {};
}

void SqliteKeyDirectory::register_device(DeviceRecord device, DoneCallback done) {
  writer_.submit(make_request<bool>(
      [device](Connection& db) -> Result<bool> {
        auto by_mailbox = SZ_TRY(find_one(db, kByMailbox.c_str(), ByteView(device.mailbox)));
        if (by_mailbox &&
            (by_mailbox->identity_key != device.identity_key || by_mailbox->device_id != device.device_id)) {
          return make_error(Errc::already_exists, fmt::format("{} is already registered to another device",
                                                              describe_mailbox(device.mailbox)));
        }
        auto by_noise = SZ_TRY(find_one(db, kByNoiseKey.c_str(), ByteView(device.noise_static_key)));
        if (by_noise && by_noise->mailbox != device.mailbox) {
          return make_error(
              Errc::already_exists,
              "this transport key is already registered for another mailbox: generate a new one");
        }
        {
          auto same_device = SZ_TRY(db.prepare(
              "SELECT mailbox FROM devices WHERE identity_key = ?1 AND device_id = ?2 AND mailbox != ?3"));
          same_device->bind_no_copy(1, ByteView(device.identity_key));
          same_device->bind(2, static_cast<std::int64_t>(device.device_id));
          same_device->bind_no_copy(3, ByteView(device.mailbox));
          if (SZ_TRY(same_device->step("looking up a device id"))) {
            return make_error(Errc::already_exists,
                              fmt::format("device id {} of this identity is already "
                                          "registered with another mailbox: pick another id",
                                          device.device_id));
          }
        }
        auto upsert = SZ_TRY(db.prepare(
            "INSERT INTO devices (mailbox, identity_key, device_id, noise_static_key, registered_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT (mailbox) DO UPDATE SET noise_static_key = excluded.noise_static_key"));
        upsert->bind_no_copy(1, ByteView(device.mailbox));
        upsert->bind_no_copy(2, ByteView(device.identity_key));
        upsert->bind(3, static_cast<std::int64_t>(device.device_id));
        upsert->bind_no_copy(4, ByteView(device.noise_static_key));
        upsert->bind(5, unix_millis());
        SZ_CHECK(upsert->run("registering a device"));
        return true;
      },
      [this, mailbox = device.mailbox, done = std::move(done)](Result<bool> result) {
        if (!result.ok()) return done(std::move(result).error());
        remember_registered(mailbox);  // committed: sends to it need no lookup from now on
        done(Status{});
      }));
}

void SqliteKeyDirectory::remember_registered(const MailboxId& mailbox) {
  // Bounded: 16 shards of at most 16,384 mailboxes (~16 MiB in all); a full shard starts
  // over and refills from lookups.
  constexpr std::size_t kMaxPerShard = 16'384;
  auto& shard = registered_shard(mailbox);
  std::lock_guard lock(shard.mutex);
  if (shard.mailboxes.size() >= kMaxPerShard) shard.mailboxes.clear();
  shard.mailboxes.insert(mailbox);
}

Result<bool> SqliteKeyDirectory::is_registered(const MailboxId& mailbox) {
  {
    auto& shard = registered_shard(mailbox);
    std::lock_guard lock(shard.mutex);
    if (shard.mailboxes.contains(mailbox)) return true;
  }
  auto db = SZ_TRY(readers_.acquire());
  auto stmt = SZ_TRY(db->prepare("SELECT 1 FROM devices WHERE mailbox = ?1"));
  stmt->bind_no_copy(1, ByteView(mailbox));
  bool found = SZ_TRY(stmt->step("looking up a device"));
  if (found) remember_registered(mailbox);
  return found;
}

Result<DeviceRecord> SqliteKeyDirectory::find_device_by_noise_key(const PublicKey& noise_static_key) {
  auto db = SZ_TRY(readers_.acquire());
  auto found = SZ_TRY(find_one(*db, kByNoiseKey.c_str(), ByteView(noise_static_key)));
  if (!found) return make_error(Errc::not_found, "no device is registered with this transport key");
  return *found;
}

Result<DeviceRecord> SqliteKeyDirectory::find_device_by_mailbox(const MailboxId& mailbox) {
  auto db = SZ_TRY(readers_.acquire());
  auto found = SZ_TRY(find_one(*db, kByMailbox.c_str(), ByteView(mailbox)));
  if (!found) return unregistered(mailbox);
  return *found;
}

Result<std::vector<DeviceRecord>> SqliteKeyDirectory::find_devices_by_identity(
    const PublicKey& identity_key) {
  auto db = SZ_TRY(readers_.acquire());
  auto stmt = SZ_TRY(db->prepare(std::string(kSelectDevice) + "WHERE identity_key = ?1 ORDER BY device_id"));
  stmt->bind_no_copy(1, ByteView(identity_key));
  std::vector<DeviceRecord> devices;
  while (SZ_TRY(stmt->step("listing an identity's devices"))) devices.push_back(SZ_TRY(read_device(*stmt)));
  return devices;
}

void SqliteKeyDirectory::store_signed_prekey(const MailboxId& mailbox, SignedPrekey prekey,
                                             DoneCallback done) {
  writer_.submit(make_request<bool>(
      [this, mailbox, prekey = std::move(prekey)](Connection& db) -> Result<bool> {
        SZ_CHECK(check_prekey_bytes(prekey.public_key, "signed prekey"));
        SZ_CHECK(check_prekey_bytes(prekey.signature, "signed prekey signature"));
        auto device = SZ_TRY(find_one(db, kByMailbox.c_str(), ByteView(mailbox)));
        if (!device) return unregistered(mailbox);
        auto stmt = SZ_TRY(db.prepare(
            "INSERT OR REPLACE INTO signed_prekeys (mailbox, prekey_id, public_key, signature, stored_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5)"));
        stmt->bind_no_copy(1, ByteView(mailbox));
        stmt->bind(2, static_cast<std::int64_t>(prekey.id));
        stmt->bind_no_copy(3, ByteView(prekey.public_key));
        stmt->bind_no_copy(4, ByteView(prekey.signature));
        stmt->bind(5, unix_millis());
        SZ_CHECK(stmt->run("storing a signed prekey"));
        return true;
      },
      [done = std::move(done)](Result<bool> result) {
        if (!result.ok()) return done(std::move(result).error());
        done(Status{});
      }));
}

void SqliteKeyDirectory::add_one_time_prekeys(const MailboxId& mailbox, std::vector<OneTimePrekey> prekeys,
                                              CountCallback done) {
  writer_.submit(make_request<std::size_t>(
      [this, mailbox, prekeys = std::move(prekeys)](Connection& db) -> Result<std::size_t> {
        for (const auto& prekey : prekeys) SZ_CHECK(check_prekey_bytes(prekey.public_key, "one-time prekey"));
        auto device = SZ_TRY(find_one(db, kByMailbox.c_str(), ByteView(mailbox)));
        if (!device) return unregistered(mailbox);
        // Count exactly how many ids are new, so re-uploading known ids near the limit works.
        std::set<std::uint32_t> new_ids;
        {
          auto exists =
              SZ_TRY(db.prepare("SELECT 1 FROM one_time_prekeys WHERE mailbox = ?1 AND prekey_id = ?2"));
          for (const auto& prekey : prekeys) {
            exists->bind_no_copy(1, ByteView(mailbox));
            exists->bind(2, static_cast<std::int64_t>(prekey.id));
            if (!SZ_TRY(exists->step("looking up a one-time prekey"))) new_ids.insert(prekey.id);
            exists->reset();
          }
        }
        std::int64_t present = SZ_TRY(count_prekeys(db, mailbox));
        std::int64_t total = present + static_cast<std::int64_t>(new_ids.size());
        if (total > static_cast<std::int64_t>(limits_.max_one_time_prekeys)) {
          return make_error(
              Errc::limit_exceeded,
              fmt::format("{} one-time prekeys are stored and {} new ones would exceed the limit "
                          "of {}: upload fewer",
                          present, new_ids.size(), limits_.max_one_time_prekeys));
        }
        auto insert = SZ_TRY(db.prepare(
            "INSERT OR REPLACE INTO one_time_prekeys (mailbox, prekey_id, public_key) VALUES (?1, ?2, ?3)"));
        for (const auto& prekey : prekeys) {
          insert->bind_no_copy(1, ByteView(mailbox));
          insert->bind(2, static_cast<std::int64_t>(prekey.id));
          insert->bind_no_copy(3, ByteView(prekey.public_key));
          SZ_CHECK(insert->run("storing a one-time prekey"));
          insert->reset();
        }
        return static_cast<std::size_t>(total);
      },
      std::move(done)));
}

void SqliteKeyDirectory::take_prekey_bundle(const MailboxId& mailbox, BundleCallback done) {
  writer_.submit(make_request<PrekeyBundle>(
      [mailbox](Connection& db) -> Result<PrekeyBundle> {
        auto device = SZ_TRY(find_one(db, kByMailbox.c_str(), ByteView(mailbox)));
        if (!device) return unregistered(mailbox);
        PrekeyBundle bundle;
        bundle.device = *device;
        {
          auto stmt = SZ_TRY(
              db.prepare("SELECT prekey_id, public_key, signature FROM signed_prekeys WHERE mailbox = ?1"));
          stmt->bind_no_copy(1, ByteView(mailbox));
          if (!SZ_TRY(stmt->step("reading a signed prekey"))) {
            return make_error(Errc::not_found,
                              fmt::format("{} has not uploaded a signed prekey yet: the device "
                                          "must upload its prekeys before others can reach it",
                                          describe_mailbox(mailbox)));
          }
          bundle.signed_prekey.id = static_cast<std::uint32_t>(stmt->column_int64(0));
          bundle.signed_prekey.public_key = stmt->column_bytes(1);
          bundle.signed_prekey.signature = stmt->column_bytes(2);
        }
        // The writer is the only one removing prekeys, so selecting then deleting in its
        // transaction hands each out exactly once.
        auto pick =
            SZ_TRY(db.prepare("SELECT prekey_id, public_key FROM one_time_prekeys WHERE mailbox = ?1 ORDER "
                              "BY prekey_id LIMIT 1"));
        pick->bind_no_copy(1, ByteView(mailbox));
        if (SZ_TRY(pick->step("choosing a one-time prekey"))) {
          OneTimePrekey prekey{static_cast<std::uint32_t>(pick->column_int64(0)), pick->column_bytes(1)};
          pick->reset();
          auto remove =
              SZ_TRY(db.prepare("DELETE FROM one_time_prekeys WHERE mailbox = ?1 AND prekey_id = ?2"));
          remove->bind_no_copy(1, ByteView(mailbox));
          remove->bind(2, static_cast<std::int64_t>(prekey.id));
          SZ_CHECK(remove->run("handing out a one-time prekey"));
          bundle.one_time_prekey = std::move(prekey);
        }
        return bundle;
      },
      std::move(done)));
}

Result<std::size_t> SqliteKeyDirectory::count_one_time_prekeys(const MailboxId& mailbox) {
  auto db = SZ_TRY(readers_.acquire());
  return static_cast<std::size_t>(SZ_TRY(count_prekeys(*db, mailbox)));
}

}  // namespace samizdat::store::sqlite
