// Channel 3: the signed map in DNS TXT records. The map is cut into chunks, one TXT record
// (a single character-string of at most 255 bytes) per chunk:
//   "v=1;d=<first 8 bytes of the map digest, hex>;i=<index>/<count>;<base64url chunk>"
// All records of one map share d; a client groups by d, needs every index 0..count-1,
// reassembles, checks the digest, and then hands the bytes to accept_map (signature check).
// The lookup is our own small DNS client: a UDP query to the configured resolver, repeated
// over TCP when the answer comes back truncated (TC bit).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace samizdat::reach {

inline constexpr std::size_t kMaxTxtChunkBytes = 160;  // 214 base64url chars + header (<= 33) < 255

// The TXT strings for a signed map, in index order.
std::vector<std::string> render_map_txt_records(ByteView signed_map_bytes);
// dnsmasq config lines ("txt-record=NAME,STRING" per chunk) and a zone-file fragment
// ("NAME. TTL IN TXT \"STRING\"" per chunk) serving those records under `name`.
std::string render_dnsmasq_txt_config(std::string_view name, const std::vector<std::string>& records);
std::string render_zone_txt_fragment(std::string_view name, const std::vector<std::string>& records,
                                     std::uint32_t ttl_seconds = 300);

// Reassembles the map bytes from the TXT strings of one lookup (strings that are not ours
// are ignored). Errc::malformed ("chunk 3 of 7 missing", "digest mismatch", ...), or
// Errc::not_found when no record carries a map.
Result<Bytes> reassemble_map_txt_records(const std::vector<std::string>& txt_strings);

struct DnsLookupOptions {
  asio::ip::udp::endpoint resolver;         // e.g. system_resolver() or a test's dnsmasq
  std::chrono::milliseconds timeout{5000};  // whole lookup, UDP try and TCP fallback included
};

// The nameserver from /etc/resolv.conf (first "nameserver" line, port 53).
Result<asio::ip::udp::endpoint> system_resolver();

// TXT strings of `name` (each record's character-strings concatenated). Errc::timeout,
// Errc::network, Errc::not_found (NXDOMAIN / no TXT), Errc::malformed (bad answer).
asio::awaitable<Result<std::vector<std::string>>> lookup_txt(std::string name, DnsLookupOptions options);

// lookup_txt + reassemble_map_txt_records: candidate map bytes for accept_map.
// Pass named variables, not temporaries (GCC 12 coroutine bug: util/coro.hpp).
asio::awaitable<Result<Bytes>> fetch_map_from_dns(std::string name, DnsLookupOptions options);
// The same on a private io_context, for callers outside a coroutine (CLI, doctor, tests).
Result<Bytes> fetch_map_from_dns_blocking(const std::string& name, const DnsLookupOptions& options);

}  // namespace samizdat::reach
