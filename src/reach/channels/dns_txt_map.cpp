#include "reach/channels/dns_txt_map.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "crypto/secret.hpp"
#include "reach/channels/dns_message.hpp"
#include "reach/map/signed_map.hpp"
#include "util/coro.hpp"
#include "util/encoding.hpp"

namespace samizdat::reach {
namespace {

constexpr std::size_t kDigestPrefixBytes = 8;
constexpr std::size_t kMaxChunks = kMaxSignedMapBytes / kMaxTxtChunkBytes + 1;

struct Chunk {
  std::string digest_hex;
  std::size_t index = 0;
  std::size_t count = 0;
  std::string payload;
};

std::optional<std::size_t> number(std::string_view text) {
  std::size_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 6 || ec != std::errc() || ptr != text.data() + text.size())
    return std::nullopt;
  return value;
}

// "v=1;d=<hex16>;i=<i>/<n>;<payload>"; nullopt for strings that are not ours.
std::optional<Chunk> parse_chunk(std::string_view text) {
  if (text.substr(0, 6) != "v=1;d=") return std::nullopt;
  text.remove_prefix(6);
  Chunk chunk;
  auto semicolon = text.find(';');
  if (semicolon != kDigestPrefixBytes * 2) return std::nullopt;
  chunk.digest_hex = std::string(text.substr(0, semicolon));
  text.remove_prefix(semicolon + 1);
  if (text.substr(0, 2) != "i=") return std::nullopt;
  text.remove_prefix(2);
  auto slash = text.find('/');
  semicolon = text.find(';');
  if (slash == std::string_view::npos || semicolon == std::string_view::npos || slash > semicolon)
    return std::nullopt;
  auto index = number(text.substr(0, slash));
  auto count = number(text.substr(slash + 1, semicolon - slash - 1));
  if (!index || !count || *count == 0 || *count > kMaxChunks || *index >= *count) return std::nullopt;
  chunk.index = *index;
  chunk.count = *count;
  chunk.payload = std::string(text.substr(semicolon + 1));
  return chunk;
}

struct LookupState {
  explicit LookupState(asio::any_io_executor executor) : udp(executor), tcp(executor), timer(executor) {}
  asio::ip::udp::socket udp;
  asio::ip::tcp::socket tcp;
  asio::steady_timer timer;
  bool timed_out = false;
};

Error timeout_error(const std::string& name) {
  return make_error(Errc::timeout,
                    "DNS lookup of " + name + " got no answer in time: the resolver may be blocked");
}

}  // namespace

std::vector<std::string> render_map_txt_records(ByteView signed_map_bytes) {
  auto digest = map_digest(signed_map_bytes);
  auto digest_hex = hex_encode(ByteView(digest.data(), kDigestPrefixBytes));
  std::size_t count = (signed_map_bytes.size() + kMaxTxtChunkBytes - 1) / kMaxTxtChunkBytes;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    auto piece = signed_map_bytes.subspan(
        i * kMaxTxtChunkBytes, std::min(kMaxTxtChunkBytes, signed_map_bytes.size() - i * kMaxTxtChunkBytes));
    out.push_back("v=1;d=" + digest_hex + ";i=" + std::to_string(i) + "/" + std::to_string(count) + ";" +
                  base64url_encode(piece));
  }
  return out;
}

std::string render_dnsmasq_txt_config(std::string_view name, const std::vector<std::string>& records) {
  std::string out;
  for (const auto& record : records) out += "txt-record=" + std::string(name) + "," + record + "\n";
  return out;
}

std::string render_zone_txt_fragment(std::string_view name, const std::vector<std::string>& records,
                                     std::uint32_t ttl_seconds) {
  std::string out;
  for (const auto& record : records) {
    out += std::string(name) + ". " + std::to_string(ttl_seconds) + " IN TXT \"" + record + "\"\n";
  }
  return out;
}

Result<Bytes> reassemble_map_txt_records(const std::vector<std::string>& txt_strings) {
  // Several maps may be published side by side during a rollover: group by digest.
  std::map<std::string, std::vector<std::optional<std::string>>> groups;
  bool conflicting = false;
  for (const auto& text : txt_strings) {
    auto chunk = parse_chunk(text);
    if (!chunk) continue;
    auto& slots = groups[chunk->digest_hex];
    if (slots.empty()) slots.resize(chunk->count);
    if (slots.size() != chunk->count) {
      conflicting = true;
      continue;
    }
    if (slots[chunk->index] && *slots[chunk->index] != chunk->payload) conflicting = true;
    slots[chunk->index] = chunk->payload;
  }
  if (groups.empty()) return make_error(Errc::not_found, "no TXT record carries a samizdat map");
  std::string last_problem;
  for (const auto& [digest_hex, slots] : groups) {
    Bytes bytes;
    bool complete = true;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i]) {
        last_problem = "map in DNS TXT is incomplete: chunk " + std::to_string(i) + " of " +
                       std::to_string(slots.size()) + " missing";
        complete = false;
        break;
      }
      auto decoded = base64url_decode(*slots[i]);
      if (!decoded.ok()) {
        last_problem = "map in DNS TXT has a damaged chunk " + std::to_string(i);
        complete = false;
        break;
      }
      append(bytes, *decoded);
    }
    if (!complete) continue;
    auto digest = map_digest(bytes);
    if (hex_encode(ByteView(digest.data(), kDigestPrefixBytes)) != digest_hex) {
      last_problem = "map in DNS TXT does not match its digest (damaged or mixed chunks)";
      continue;
    }
    return bytes;
  }
  if (conflicting) last_problem += " (records disagree with each other)";
  return make_error(Errc::malformed, last_problem);
}

Result<asio::ip::udp::endpoint> system_resolver() {
  std::ifstream file("/etc/resolv.conf");
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    words >> keyword >> address;
    if (keyword != "nameserver") continue;
    asio::error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (!ec) return asio::ip::udp::endpoint(ip, 53);
  }
  return make_error(Errc::not_found, "no nameserver in /etc/resolv.conf: configure a DNS resolver address");
}

asio::awaitable<Result<std::vector<std::string>>> lookup_txt(std::string name, DnsLookupOptions options) {
  auto executor = co_await asio::this_coro::executor;
  auto id = static_cast<std::uint16_t>(crypto::random_uniform(65536));
  auto query = encode_txt_query(name, id);
  if (!query.ok()) co_return std::move(query).error();
  // The timer closes whatever socket is in use, which ends the pending operation; the state
  // is shared so a timer that fires late never touches a finished lookup's sockets.
  auto state = std::make_shared<LookupState>(executor);
  state->timer.expires_after(options.timeout);
  state->timer.async_wait([state](const asio::error_code& ec) {
    if (ec) return;
    state->timed_out = true;
    asio::error_code ignored;
    state->udp.close(ignored);
    state->tcp.close(ignored);
  });

  asio::error_code ec;
  state->udp.open(options.resolver.protocol(), ec);
  if (ec) co_return make_error(Errc::network, "cannot open a UDP socket for DNS: " + ec.message());
  auto [send_error, sent] =
      co_await state->udp.async_send_to(asio::buffer(*query), options.resolver, use_tuple);
  if (send_error) {
    state->timer.cancel();
    co_return make_error(Errc::network,
                         "cannot send the DNS query for " + name + ": " + send_error.message());
  }
  Bytes datagram(4096);
  std::optional<TxtResponse> response;
  while (!response) {
    asio::ip::udp::endpoint from;
    auto [receive_error, received] =
        co_await state->udp.async_receive_from(asio::buffer(datagram), from, use_tuple);
    if (state->timed_out) co_return timeout_error(name);
    if (receive_error) {
      state->timer.cancel();
      co_return make_error(Errc::network, "DNS lookup of " + name + " failed: " + receive_error.message());
    }
    if (from != options.resolver) continue;  // not our resolver: ignore
    auto parsed = parse_txt_response(ByteView(datagram.data(), received), id);
    if (!parsed.ok()) {
      if (parsed.error().code == Errc::malformed) continue;  // a forged or stray datagram: keep waiting
      state->timer.cancel();
      co_return std::move(parsed).error();
    }
    response = std::move(*parsed);
  }
  state->udp.close(ec);
  if (response->truncated) {
    // RFC 1035 4.2.2 / RFC 7766: the full answer over TCP, with a two-byte length prefix.
    asio::ip::tcp::endpoint target(options.resolver.address(), options.resolver.port());
    auto [connect_error] = co_await state->tcp.async_connect(target, use_tuple);
    if (state->timed_out) co_return timeout_error(name);
    if (connect_error) {
      state->timer.cancel();
      co_return make_error(Errc::network, "DNS over TCP to the resolver failed: " + connect_error.message());
    }
    Bytes framed(2);
    put_u16_be(framed.data(), static_cast<std::uint16_t>(query->size()));
    append(framed, *query);
    auto [write_error, written] = co_await asio::async_write(state->tcp, asio::buffer(framed), use_tuple);
    std::uint8_t length_bytes[2] = {0, 0};
    asio::error_code read_error = write_error;
    if (!read_error) {
      auto [error, n] = co_await asio::async_read(state->tcp, asio::buffer(length_bytes), use_tuple);
      read_error = error;
    }
    Bytes message(get_u16_be(length_bytes));
    if (!read_error) {
      auto [error, n] = co_await asio::async_read(state->tcp, asio::buffer(message), use_tuple);
      read_error = error;
    }
    if (state->timed_out) co_return timeout_error(name);
    state->timer.cancel();
    if (read_error) co_return make_error(Errc::network, "DNS over TCP failed: " + read_error.message());
    auto parsed = parse_txt_response(message, id);
    if (!parsed.ok()) co_return std::move(parsed).error();
    response = std::move(*parsed);
  }
  state->timer.cancel();
  if (response->records.empty()) co_return make_error(Errc::not_found, "no TXT records at " + name);
  co_return std::move(response->records);
}

asio::awaitable<Result<Bytes>> fetch_map_from_dns(std::string name, DnsLookupOptions options) {
  auto records = co_await lookup_txt(name, options);
  if (!records.ok()) co_return std::move(records).error();
  co_return reassemble_map_txt_records(*records);
}

Result<Bytes> fetch_map_from_dns_blocking(const std::string& name, const DnsLookupOptions& options) {
  asio::io_context context;
  std::optional<Result<Bytes>> result;
  auto run = [&result, name, options]() -> asio::awaitable<void> {
    auto value = co_await fetch_map_from_dns(name, options);
    result = std::move(value);
  };
  asio::co_spawn(context, run(), log_escape("dns_txt_map: run"));
  context.run();
  if (!result) return make_error(Errc::internal, "DNS map fetch did not finish");
  return std::move(*result);
}

}  // namespace samizdat::reach
