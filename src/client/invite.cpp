#include "client/invite.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "crypto/secret.hpp"
#include "util/encoding.hpp"

namespace samizdat::client {
namespace {

constexpr std::uint8_t kInviteVersion = 1;
constexpr std::size_t kChecksumSize = 8;
constexpr std::size_t kBodySize = 1 + 32 + 4;
constexpr std::string_view kChecksumDomain = "Samizdat_Invite_v1";

std::array<std::uint8_t, kChecksumSize> checksum(ByteView body) {
  crypto::ensure_initialized();
  crypto_generichash_blake2b_state state;
  crypto_generichash_blake2b_init(&state, nullptr, 0, kChecksumSize);
  crypto_generichash_blake2b_update(&state, as_bytes(kChecksumDomain).data(), kChecksumDomain.size());
  crypto_generichash_blake2b_update(&state, body.data(), body.size());
  std::array<std::uint8_t, kChecksumSize> out{};
  crypto_generichash_blake2b_final(&state, out.data(), out.size());
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string Invite::to_string() const {
  Bytes body;
  body.push_back(kInviteVersion);
  append(body, identity_key);
  std::uint8_t device[4];
  put_u32_be(device, device_id);
  append(body, ByteView(device, 4));
  append(body, checksum(body));
  return std::string(kInvitePrefix) + base64url_encode(body);
}

Result<Invite> Invite::parse(std::string_view text) {
  text = trim(text);
  if (text.starts_with(crypto::e2e::kAddressPrefix) && !text.starts_with(kInvitePrefix)) {
    auto address = crypto::e2e::Address::parse(text);
    if (!address.ok()) return std::move(address).error();
    return Invite{address->identity_key, 1};
  }
  if (!text.starts_with(kInvitePrefix)) {
    return make_error(Errc::invalid_argument, "not an invite: it should start with '" +
                                                  std::string(kInvitePrefix) +
                                                  "' (ask your contact for the output of `samizdat invite`)");
  }
  auto body = base64url_decode(text.substr(kInvitePrefix.size()));
  if (!body.ok()) {
    return make_error(Errc::invalid_argument,
                      "invite is damaged (" + body.error().message + "): was it copied completely?");
  }
  if (body->size() != kBodySize + kChecksumSize) {
    return make_error(Errc::invalid_argument, "invite has the wrong length (" + std::to_string(body->size()) +
                                                  " bytes): was it copied completely?");
  }
  if ((*body)[0] != kInviteVersion) {
    return make_error(Errc::invalid_argument,
                      "invite version " + std::to_string((*body)[0]) + " is not supported: upgrade samizdat");
  }
  auto expected = checksum(ByteView(*body).first(kBodySize));
  if (!equal_constant_time(expected, ByteView(*body).subspan(kBodySize))) {
    return make_error(Errc::invalid_argument, "invite checksum does not match: was it copied completely?");
  }
  Invite invite;
  std::copy_n(body->begin() + 1, 32, invite.identity_key.begin());
  invite.device_id = get_u32_be(body->data() + 33);
  if (invite.device_id == 0)
    return make_error(Errc::invalid_argument, "invite names device 0, which cannot exist");
  return invite;
}

}  // namespace samizdat::client
