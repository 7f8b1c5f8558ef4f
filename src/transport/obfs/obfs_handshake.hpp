// The byte-level handshake of the obfs transport, without sockets (so it can be fuzzed).
// Wire format (docs/PROTOCOL.md "obfs"):
//   client first packet:  shape( salt || record_c0( pattern(1) || Noise message 1 ) )
//   client second packet: record_c1( confirmation(32) )
//   server packet:        record_s0( Noise message 2 )
//   record_d,n(content) = (u16be L) XOR mask(d, n) || AEAD_d,n( u16be len(content) || content || zeros )
//     mask(d, n)  = the first 2 bytes of ChaCha20(key = K(d, "len", salt), nonce = n)
//     AEAD_d,n    = ChaCha20-Poly1305 (IETF) with key K(d, epoch, salt), nonce = n; L is its size
// K(...) are keyed BLAKE2b subkeys of the endpoint root (PSK + server key + shaping mode), epoch =
// unix time / 5 min (the server accepts the previous, current and next). The Noise
// payload of message 1 is a fresh 32-byte secret N; the confirmation is
// BLAKE2b(key = N, label || salt). The server answers only after the confirmation, so a
// recorded first packet replayed without it — even one that reaches the server before
// the original — is treated exactly like junk. Every byte is uniformly random to anyone
// without the endpoint secret, except for what the shaping mode adds (obfs_shaping.hpp).
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/keys.hpp"
#include "crypto/noise/handshake.hpp"
#include "transport/endpoint.hpp"
#include "transport/obfs/obfs_secrets.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::transport::obfs {

// The Noise prologue is this, a space and the shaping mode's name ("samizdat/obfs/2 prefix").
inline constexpr std::string_view kObfsPrologue = "samizdat/obfs/2";
inline constexpr std::int64_t kEpochMillis = 5 * 60 * 1000;
inline constexpr std::size_t kRecordTag = 16;
inline constexpr std::size_t kMinRecord = 2 + kRecordTag;  // empty content, no padding
inline constexpr std::size_t kMaxRecord = 1200;            // AEAD part of any handshake record

enum class Pattern : std::uint8_t { ik_psk2 = 0, nk_psk2 = 1 };

// Server side. Feed it exactly wanted() bytes at a time until done() (or an error: the
// connection is junk from then on; see JunkPolicy).
class ServerHandshake {
 public:
  ServerHandshake(const ObfsSecrets& secrets, const crypto::X25519KeyPair& server_static, const Psk& psk,
                  std::int64_t unix_ms);
  // Wire bytes to read next (> 0 until done or failed).
  [[nodiscard]] std::size_t wanted() const;
  // Errc::auth_failed / malformed when the bytes cannot be a client's handshake (then
  // every later call fails too). Errc::invalid_argument if bytes.size() != wanted().
  Status feed(ByteView bytes);
  [[nodiscard]] bool done() const { return phase_ == Phase::done; }
  // Wire bytes consumed so far.
  [[nodiscard]] std::size_t consumed() const { return consumed_; }

  // After done(): what to send, who the client is, the keys.
  [[nodiscard]] ByteView reply() const { return reply_; }
  [[nodiscard]] Pattern pattern() const { return pattern_; }
  [[nodiscard]] const std::optional<crypto::X25519Public>& client_static() const { return client_static_; }
  // The first record as the client sent it (salt + record): the replay-cache key.
  [[nodiscard]] ByteView replay_key() const;
  Result<crypto::noise::TransportKeys> take_keys();

 private:
  enum class Phase {
    salt_first,
    salt_rest,
    hello_length,
    hello_record,
    confirm_length,
    confirm_record,
    done,
    failed
  };
  Status advance();
  Status fail(Errc code, std::string message);
  Status open_hello();
  Status open_confirm();

  const ObfsSecrets& secrets_;
  const crypto::X25519KeyPair& server_static_;
  Psk psk_;
  std::int64_t unix_ms_;
  Phase phase_ = Phase::salt_first;
  Bytes first_;  // raw (unshaped) first packet
  std::size_t first_target_ = 0;
  std::size_t first_wire_ = 0;  // popcount: wire bytes of the first packet read
  std::size_t salt_size_ = 0;
  Bytes second_;
  std::size_t second_target_ = 0;
  std::size_t consumed_ = 0;
  std::int64_t epoch_ = 0;
  Key liveness_{};
  std::optional<crypto::noise::HandshakeState> noise_;
  Pattern pattern_ = Pattern::nk_psk2;
  std::optional<crypto::X25519Public> client_static_;
  Bytes reply_;
  std::optional<crypto::noise::TransportKeys> keys_;
};

// Client side: both packets are ready at once; then feed the server's reply.
class ClientHandshake {
 public:
  static Result<ClientHandshake> start(const ObfsSecrets& secrets, const crypto::X25519Public& server_static,
                                       const Psk& psk, const crypto::X25519KeyPair* client_static,
                                       std::int64_t unix_ms);
  [[nodiscard]] ByteView first_packet() const { return first_; }
  [[nodiscard]] ByteView second_packet() const { return second_; }
  [[nodiscard]] std::size_t wanted() const;
  // Errc::auth_failed when the reply does not authenticate as this server.
  Status feed(ByteView bytes);
  [[nodiscard]] bool done() const { return keys_.has_value(); }
  Result<crypto::noise::TransportKeys> take_keys();

 private:
  ClientHandshake(const ObfsSecrets& secrets, crypto::noise::HandshakeState state)
      : secrets_(&secrets), noise_(std::move(state)) {}
  const ObfsSecrets* secrets_;
  crypto::noise::HandshakeState noise_;
  Bytes salt_;
  std::int64_t epoch_ = 0;
  Bytes first_;
  Bytes second_;
  Bytes reply_;
  std::size_t reply_target_ = 2;
  bool failed_ = false;
  std::optional<crypto::noise::TransportKeys> keys_;
};

}  // namespace samizdat::transport::obfs
