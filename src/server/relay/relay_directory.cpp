#include "server/relay/relay_directory.hpp"

#include <toml++/toml.h>

#include <sstream>

#include "reach/bootstrap.hpp"
#include "server/key_file.hpp"
#include "transport/https/cover_site.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/relay/relay_link.hpp"
#include "util/file.hpp"

namespace samizdat::server {
namespace fs = std::filesystem;
namespace {

constexpr const char* kConfigFile = "relay.toml";
constexpr const char* kShareFile = "share.txt";
constexpr const char* kTlsCertificate = "keys/tls_certificate.pem";
constexpr const char* kTlsPrivateKey = "keys/tls_private_key.pem";

std::string render(const std::string& upstream, const std::vector<std::string>& listen) {
  std::ostringstream out;
  out << "# samizdatd relay configuration.\n"
      << "# The network this relay serves: its bootstrap string (from the operator).\n"
      << "upstream = " << toml::value<std::string>(upstream) << "\n"
      << "# Where clients reach this relay (any transport; its own key and PSK are in keys/).\n"
      << "listen = [";
  for (std::size_t i = 0; i < listen.size(); ++i) {
    out << (i ? ", " : "") << toml::value<std::string>(listen[i]);
  }
  out << "]\n";
  return out.str();
}

Status load_config(const fs::path& file, std::string& upstream, std::vector<std::string>& listen) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    return make_error(Errc::invalid_argument, file.string() + ": " + std::string(error.description()));
  }
  if (auto value = table["upstream"].value<std::string>()) upstream = *value;
  if (auto* array = table["listen"].as_array()) {
    for (const auto& item : *array) {
      auto text = item.value<std::string>();
      if (!text) return make_error(Errc::invalid_argument, file.string() + ": listen must hold strings");
      listen.push_back(*text);
    }
  }
  return {};
}

// tls and wss listeners present a certificate and serve a cover site to visitors who are
// not clients. A relay is a volunteer's box with no domain of its own, so it makes a
// self-signed one (clients authenticate the relay by its Noise key, not the certificate),
// named after the first tls/wss endpoint's SNI or host; it is kept across restarts.
Status prepare_tls(RelayDirectory& directory) {
  const transport::Endpoint* first = nullptr;
  for (const auto& endpoint : directory.options.listen) {
    if (endpoint.scheme == "tls" || endpoint.scheme == "wss") {
      first = &endpoint;
      break;
    }
  }
  auto& options = directory.options;
  options.tls_certificate = directory.dir / kTlsCertificate;
  options.tls_private_key = directory.dir / kTlsPrivateKey;
  options.cover_site = transport::https::find_default_cover_site();
  if (!first) return {};
  std::error_code ec;
  if (fs::exists(options.tls_certificate, ec) && fs::exists(options.tls_private_key, ec)) return {};
  std::string name = first->sni.empty() ? first->host : first->sni;
  return transport::https::write_self_signed_certificate(options.tls_certificate, options.tls_private_key,
                                                         name);
}

}  // namespace

Result<RelayDirectory> open_relay_directory(const fs::path& dir, std::optional<std::string> upstream,
                                            const std::vector<std::string>& listen) {
  RelayDirectory directory;
  directory.dir = dir;
  std::error_code ec;
  bool exists = fs::exists(dir / kConfigFile, ec);
  if (exists) SZ_CHECK(load_config(dir / kConfigFile, directory.upstream_bootstrap, directory.listen));
  if (upstream) directory.upstream_bootstrap = *upstream;
  if (!listen.empty()) directory.listen = listen;
  if (directory.listen.empty()) directory.listen.push_back("tcp://127.0.0.1:0");
  if (directory.upstream_bootstrap.empty()) {
    return make_error(Errc::invalid_argument,
                      "a new relay needs the network's bootstrap string: --upstream 'samizdat1:...'");
  }
  auto bootstrap = reach::parse_bootstrap(directory.upstream_bootstrap);
  if (!bootstrap.ok()) return make_error(Errc::invalid_argument, "--upstream: " + bootstrap.error().message);
  directory.options.upstream = bootstrap->endpoints;

  if (!exists) {
    SZ_CHECK(create_key_folders(dir));
    crypto::ensure_initialized();
    auto noise = crypto::X25519KeyPair::generate();
    auto psk = crypto::Secret<32>::random();
    SZ_CHECK(write_secret_hex_file(dir / "keys" / "noise_static.key", noise.secret_key.view()));
    SZ_CHECK(write_secret_hex_file(dir / "keys" / "endpoint.psk", psk.view()));
  }
  auto secret = SZ_TRY(read_hex_file<32>(dir / "keys" / "noise_static.key"));
  auto psk = SZ_TRY(read_hex_file<32>(dir / "keys" / "endpoint.psk"));
  directory.options.noise_static =
      std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::from_secret(secret));
  sodium_memzero(secret.data(), secret.size());
  for (const auto& uri : directory.listen) {
    auto endpoint = transport::parse_endpoint_uri(uri);
    if (!endpoint.ok()) return std::move(endpoint).error();
    std::copy(psk.begin(), psk.end(), endpoint->psk.begin());
    directory.options.listen.push_back(std::move(*endpoint));
  }
  SZ_CHECK(prepare_tls(directory));
  SZ_CHECK(write_file_atomically(dir / kConfigFile,
                                 as_bytes(render(directory.upstream_bootstrap, directory.listen))));
  return directory;
}

Result<std::string> record_relay_endpoints(const RelayDirectory& directory,
                                           const std::vector<transport::Endpoint>& bound) {
  std::vector<std::string> listen;
  for (const auto& endpoint : bound) {
    auto uri = endpoint.to_uri();
    if (!endpoint.sni.empty() || !endpoint.host_header.empty() || !endpoint.shaping.empty()) {
      std::string query;
      if (!endpoint.sni.empty()) query += "&sni=" + endpoint.sni;
      if (!endpoint.host_header.empty()) query += "&host=" + endpoint.host_header;
      if (!endpoint.shaping.empty()) query += "&shaping=" + endpoint.shaping;
      uri += "?" + query.substr(1);
    }
    listen.push_back(uri);
  }
  SZ_CHECK(write_file_atomically(directory.dir / kConfigFile,
                                 as_bytes(render(directory.upstream_bootstrap, listen))));
  transport::RelayLink link;
  link.endpoints = bound;
  auto text = SZ_TRY(transport::encode_relay_link(link));
  SZ_CHECK(write_file_atomically(directory.dir / kShareFile, as_bytes(text + "\n")));
  return text;
}

}  // namespace samizdat::server
