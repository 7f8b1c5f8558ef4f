// ServiceContext: what every session shares — storage, the router of online devices,
// the sender-certificate key and the limits. Everything here is thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "crypto/keys.hpp"
#include "server/router.hpp"
#include "store/key_directory.hpp"
#include "store/mailbox_store.hpp"

namespace samizdat::server {

class TunnelService;
class PublishedMap;

struct SessionLimits {
  std::size_t max_message_bytes = 1 << 20;     // one ClientMessage (reassembled from frames)
  std::size_t max_envelope_bytes = 64 * 1024;  // one sealed ciphertext
  std::size_t max_recipients_per_send = 100;
  std::size_t max_prekeys_per_upload = 200;
  std::uint32_t max_fetch = 200;                 // envelopes per fetch reply
  std::size_t max_reply_bytes = 512 * 1024;      // a fetch reply stops growing here
  double requests_per_second = 50;               // token bucket refill
  double request_burst = 200;                    // token bucket capacity
  std::uint32_t rate_strikes_before_close = 50;  // requests refused for rate before closing
  std::int64_t sender_certificate_validity_ms = 24LL * 3600 * 1000;
  std::uint32_t prekey_low_watermark = 20;              // clients should keep at least this many OPKs
  std::int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // for expiry times in pushes
};

struct ServiceContext {
  store::MailboxStore& mailboxes;
  store::KeyDirectory& keys;
  Router& router;
  const crypto::Ed25519KeyPair& certificate_key;  // signs sender certificates
  SessionLimits limits;
  TunnelService* tunnels = nullptr;       // relay tunnels (OpenTunnel); none = refused
  PublishedMap* published_map = nullptr;  // offered in-band (map_push.hpp); none = no offers
};

}  // namespace samizdat::server
