// Every setting the account database keeps in its `meta` table: its stored name and its
// type, written once here. AccountStore::get / put take these, never a raw key.
//
// Stored forms (those of the first databases, so every existing account still reads):
// integers, bools and enums as decimal text ("1"), text and bytes as they are. A secret is
// sealed under the at-rest key with its name as the label, under the key "secret:NAME".
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "client/at_rest_key.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "util/bytes.hpp"

namespace samizdat::client {

template <class T>
struct Setting {
  std::string_view key;
};

struct SecretSetting {
  std::string_view name;
};

namespace settings {

// The database itself (written once by AccountStore::create).
inline constexpr Setting<std::int64_t> schema_version{"schema_version"};
inline constexpr Setting<KeySource> key_source{"key_source"};
inline constexpr Setting<Bytes> key_salt{"key_salt"};
inline constexpr Setting<std::uint64_t> key_opslimit{"key_opslimit"};
inline constexpr Setting<std::uint64_t> key_memlimit{"key_memlimit"};
// A known value sealed at creation: a wrong key fails at open with a clear message.
inline constexpr SecretSetting key_check{"key-check"};

// The account (written by Client::init).
inline constexpr SecretSetting identity_seed{"identity_seed"};
inline constexpr SecretSetting device_key{"device_key"};
inline constexpr Setting<crypto::e2e::DeviceId> device_id{"device_id"};
inline constexpr Setting<std::string> bootstrap{"bootstrap"};
inline constexpr Setting<bool> registered{"registered"};  // the server knows this device
inline constexpr Setting<crypto::e2e::PreKeyId> signed_prekey_id{"signed_prekey_id"};
inline constexpr Setting<crypto::e2e::PreKeyId> next_prekey_id{"next_prekey_id"};
inline constexpr Setting<Bytes> sender_certificate{"sender_certificate"};

// Reach: the newest signed network map, the dialer's endpoint health record
// (reach/dialer/endpoint_health.hpp), endpoints imported by hand (newline-separated URIs
// with keys), and which contacts were asked for or sent a map (contact_map.hpp).
inline constexpr Setting<Bytes> reach_map{"reach_map"};
inline constexpr Setting<Bytes> reach_health{"reach_health"};
inline constexpr Setting<std::string> reach_imported{"reach_imported"};
inline constexpr Setting<Bytes> contact_map_ledger{"contact_map_ledger"};

}  // namespace settings

// What put() takes for a setting of type T: views for bytes and text.
template <class T>
using SettingInput =
    std::conditional_t<std::is_same_v<T, Bytes>, ByteView,
                       std::conditional_t<std::is_same_v<T, std::string>, std::string_view, T>>;

template <class T>
Bytes encode_setting(const SettingInput<T>& value) {
  if constexpr (std::is_same_v<T, Bytes>) {
    return to_bytes(value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return to_bytes(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    return to_bytes(std::string_view(value ? "1" : "0"));
  } else if constexpr (std::is_enum_v<T>) {
    return encode_setting<std::int64_t>(static_cast<std::int64_t>(value));
  } else {
    static_assert(std::is_integral_v<T>, "a setting is bytes, text, bool, an enum or an integer");
    return to_bytes(std::string_view(std::to_string(value)));
  }
}

// nullopt: the stored value is not a T (a damaged database).
template <class T>
std::optional<T> decode_setting(ByteView stored) {
  if constexpr (std::is_same_v<T, Bytes>) {
    return to_bytes(stored);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(as_chars(stored));
  } else if constexpr (std::is_same_v<T, bool>) {
    auto number = decode_setting<std::int64_t>(stored);
    if (!number || (*number != 0 && *number != 1)) return std::nullopt;
    return *number == 1;
  } else if constexpr (std::is_same_v<T, KeySource>) {
    auto number = decode_setting<std::int64_t>(stored);
    if (!number || *number < 0 || *number > static_cast<std::int64_t>(KeySource::passphrase))
      return std::nullopt;
    return static_cast<KeySource>(*number);
  } else {
    static_assert(std::is_integral_v<T>, "a setting is bytes, text, bool, KeySource or an integer");
    std::string_view text = as_chars(stored);
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }
}

}  // namespace samizdat::client
