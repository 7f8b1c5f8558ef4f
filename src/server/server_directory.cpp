#include "server/server_directory.hpp"

#include <toml++/toml.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cmath>
#include <sstream>

#include "reach/bootstrap.hpp"
#include "server/key_file.hpp"
#include "server/map_directory.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "transport/https/cover_site.hpp"
#include "transport/https/tls_stream.hpp"
#include "util/file.hpp"

namespace samizdat::server {
namespace fs = std::filesystem;
namespace {

constexpr const char* kConfigFile = "config.toml";
constexpr const char* kDatabaseFile = "samizdat.db";
constexpr const char* kBootstrapFile = "bootstrap.txt";

// Binds port 0 on the URI's host to pick a free port now, so the config and the
// bootstrap string name a fixed port.
Result<std::string> pin_port(const std::string& uri) {
  auto endpoint = SZ_TRY(transport::parse_endpoint_uri(uri));
  if (endpoint.port != 0) return uri;
  std::error_code ec;
  auto address = asio::ip::make_address(endpoint.host, ec);
  if (ec)
    return make_error(Errc::invalid_argument, "listen host '" + endpoint.host + "' must be an IP address");
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  probe.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) probe.bind({address, 0}, ec);
  if (ec)
    return make_error(Errc::network, "cannot pick a free port on " + endpoint.host + ": " + ec.message());
  endpoint.port = probe.local_endpoint().port();
  // Keys come from the server directory, but the obfs shaping mode is part of the address.
  return endpoint.shaping.empty() ? endpoint.to_uri() : endpoint.to_uri() + "?shaping=" + endpoint.shaping;
}

}  // namespace

std::string render_server_config(const ServerConfig& c) {
  auto list = [](const std::vector<std::string>& items) {
    std::ostringstream out;
    out << "[";
    for (std::size_t i = 0; i < items.size(); ++i)
      out << (i ? ", " : "") << toml::value<std::string>(items[i]);
    out << "]";
    return out.str();
  };
  std::ostringstream out;
  out << "# samizdatd configuration. Keys live in keys/ (mode 0600); storage in samizdat.db.\n\n"
      << "# Endpoints to listen on: SCHEME://HOST:PORT (tcp now; obfs/tls/wss later).\n"
      << "listen = " << list(c.listen) << "\n\n"
      << "# Endpoints clients are told to use (the bootstrap string). Empty: the listen list.\n"
      << "# Set this when clients reach the server under another address (NAT, DNS name).\n"
      << "advertise = " << list(c.advertise) << "\n\n"
      << "# Worker threads (one io_context each); 0 = one per CPU core.\n"
      << "threads = " << c.threads << "\n\n"
      << "# Log level: trace, debug, info, warn, error, off (--log-level overrides it).\n"
      << "log_level = " << toml::value<std::string>(c.log_level) << "\n\n"
      << "# Connections that have not completed the Noise handshake by then are closed.\n"
      << "handshake_timeout_ms = " << c.handshake_timeout_ms << "\n\n"
      << "# Queued envelopes are deleted unread after this many days.\n"
      << "retention_days = " << c.retention_days << "\n\n"
      << "# How often expired envelopes are swept, in seconds.\n"
      << "expiry_sweep_seconds = " << c.expiry_sweep_seconds << "\n\n"
      << "# Largest sealed envelope accepted, in bytes (at most 262144).\n"
      << "max_envelope_bytes = " << c.max_envelope_bytes << "\n\n"
      << "# Envelopes a mailbox may hold before sends to it are refused.\n"
      << "max_queued_per_mailbox = " << c.max_queued_per_mailbox << "\n\n"
      << "# Recipients in one multi-recipient send.\n"
      << "max_recipients_per_send = " << c.max_recipients_per_send << "\n\n"
      << "# Per-connection request rate limit (token bucket): sustained rate and burst.\n"
      << "requests_per_second = " << c.requests_per_second << "\n"
      << "request_burst = " << c.request_burst << "\n\n"
      << "# tls listeners: PEM certificate chain and private key (relative to this directory).\n"
      << "# `samizdatd init` wrote a self-signed pair; replace it with a real one for a real name.\n"
      << "tls_certificate = " << toml::value<std::string>(c.tls_certificate) << "\n"
      << "tls_private_key = " << toml::value<std::string>(c.tls_private_key) << "\n\n"
      << "# Directory of static files served to every visitor of a tls/wss listener who is not a\n"
      << "# Samizdat client. Empty: the cover site shipped with samizdatd (share/cover-site).\n"
      << "cover_site = " << toml::value<std::string>(c.cover_site) << "\n";
  return out.str();
}

Result<ServerConfig> load_server_config(const fs::path& file) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& error) {
    std::ostringstream where;
    where << error.source().begin;
    return make_error(Errc::invalid_argument, file.string() + " is not valid TOML (" +
                                                  std::string(error.description()) + " at " + where.str() +
                                                  ")");
  }
  ServerConfig config;
  auto bad = [&](std::string_view key, std::string_view what) {
    return make_error(Errc::invalid_argument,
                      file.string() + ": '" + std::string(key) + "' " + std::string(what));
  };
  static const std::vector<std::string> known = {"listen",
                                                 "advertise",
                                                 "threads",
                                                 "log_level",
                                                 "handshake_timeout_ms",
                                                 "retention_days",
                                                 "expiry_sweep_seconds",
                                                 "max_envelope_bytes",
                                                 "max_queued_per_mailbox",
                                                 "max_recipients_per_send",
                                                 "requests_per_second",
                                                 "request_burst",
                                                 "tls_certificate",
                                                 "tls_private_key",
                                                 "cover_site"};
  for (const auto& [key, value] : table) {
    (void)value;
    if (std::find(known.begin(), known.end(), std::string(key.str())) == known.end()) {
      return bad(key.str(), "is not a known option (a typo?)");
    }
  }
  auto strings = [&](std::string_view key, std::vector<std::string>& out) -> Status {
    auto node = table[key];
    if (!node) return {};
    auto* array = node.as_array();
    if (array == nullptr) return bad(key, "must be a list of strings");
    for (const auto& item : *array) {
      auto text = item.value<std::string>();
      if (!text) return bad(key, "must be a list of strings");
      auto parsed = transport::parse_endpoint_uri(*text);
      if (!parsed.ok()) return bad(key, "holds a bad endpoint: " + parsed.error().message);
      out.push_back(*text);
    }
    return {};
  };
  auto integer = [&](std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) -> Status {
    auto node = table[key];
    if (!node) return {};
    // Only a TOML integer: toml++'s value<int64_t>() would also convert a float, casting
    // before its range check (undefined behaviour for 8e88; the fuzzer found it in a
    // censor scenario file read the same way).
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      return bad(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    out = value->get();
    return {};
  };
  auto real = [&](std::string_view key, double& out) -> Status {
    auto node = table[key];
    if (!node) return {};
    auto value = node.value<double>();
    if (!value || !std::isfinite(*value) || *value <= 0) return bad(key, "must be a positive number");
    out = *value;
    return {};
  };
  SZ_CHECK(strings("listen", config.listen));
  SZ_CHECK(strings("advertise", config.advertise));
  if (config.listen.empty()) return bad("listen", "must name at least one endpoint");
  std::int64_t threads = 0;
  SZ_CHECK(integer("threads", threads, 0, 1024));
  config.threads = static_cast<std::size_t>(threads);
  if (auto level = table["log_level"]) {
    auto text = level.value<std::string>();
    static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!text || std::find(levels.begin(), levels.end(), *text) == levels.end()) {
      return bad("log_level", "must be one of trace, debug, info, warn, error, off");
    }
    config.log_level = *text;
  }
  for (auto [key, target] : {std::pair<const char*, std::string*>{"tls_certificate", &config.tls_certificate},
                             {"tls_private_key", &config.tls_private_key},
                             {"cover_site", &config.cover_site}}) {
    if (auto node = table[key]) {
      auto text = node.value<std::string>();
      if (!text) return bad(key, "must be a string (a path)");
      *target = *text;
    }
  }
  SZ_CHECK(integer("handshake_timeout_ms", config.handshake_timeout_ms, 100, 600'000));
  SZ_CHECK(integer("retention_days", config.retention_days, 1, 3650));
  SZ_CHECK(integer("expiry_sweep_seconds", config.expiry_sweep_seconds, 1, 86'400));
  SZ_CHECK(integer("max_envelope_bytes", config.max_envelope_bytes, 1, 256 * 1024));
  SZ_CHECK(integer("max_queued_per_mailbox", config.max_queued_per_mailbox, 1, 10'000'000));
  SZ_CHECK(integer("max_recipients_per_send", config.max_recipients_per_send, 1, 1000));
  SZ_CHECK(real("requests_per_second", config.requests_per_second));
  SZ_CHECK(real("request_burst", config.request_burst));
  return config;
}

Result<InitResult> init_server_directory(const fs::path& dir, std::vector<std::string> listen,
                                         std::vector<std::string> advertise) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return make_error(Errc::already_exists,
                      dir.string() + " is not empty: `samizdatd run --dir " + dir.string() +
                          "` serves an existing server; pick a new directory to create another");
  }
  if (listen.empty()) listen.push_back("tcp://127.0.0.1:0");
  ServerConfig config;
  for (const auto& uri : listen) config.listen.push_back(SZ_TRY(pin_port(uri)));
  for (const auto& uri : advertise) {
    auto parsed = transport::parse_endpoint_uri(uri);
    if (!parsed.ok()) return std::move(parsed).error();
    config.advertise.push_back(uri);
  }
  SZ_CHECK(create_key_folders(dir));

  crypto::ensure_initialized();
  auto noise = crypto::X25519KeyPair::generate();
  auto operator_key = crypto::Ed25519KeyPair::generate();
  auto psk = crypto::Secret<32>::random();
  SZ_CHECK(write_secret_hex_file(dir / "keys" / "noise_static.key", noise.secret_key.view()));
  SZ_CHECK(
      write_secret_hex_file(dir / "keys" / "operator.key", operator_key.secret_key.view().subspan(0, 32)));
  SZ_CHECK(write_secret_hex_file(dir / "keys" / "endpoint.psk", psk.view()));
  SZ_CHECK(write_file_atomically(dir / kConfigFile, as_bytes(render_server_config(config))));
  {
    // Named after the first tls endpoint's SNI or host, like a site's own certificate.
    std::string name = "localhost";
    for (const auto& uri : config.listen) {
      auto parsed = transport::parse_endpoint_uri(uri);
      if (parsed.ok() && parsed->scheme == "tls") {
        name = parsed->sni.empty() ? parsed->host : parsed->sni;
        break;
      }
    }
    SZ_CHECK(transport::https::write_self_signed_certificate(dir / config.tls_certificate,
                                                             dir / config.tls_private_key, name));
  }
  {
    auto store = SZ_TRY(store::SqliteStore::open(dir / kDatabaseFile));
    store->close();
  }
  auto loaded = SZ_TRY(load_server_directory(dir));
  std::vector<transport::Endpoint> bound;
  for (const auto& endpoint : loaded.options.listen) bound.push_back(endpoint);
  auto bootstrap = SZ_TRY(make_bootstrap(loaded, bound));
  SZ_CHECK(write_file_atomically(dir / kBootstrapFile, as_bytes(bootstrap + "\n")));
  return InitResult{bootstrap, config.listen};
}

Result<LoadedServer> load_server_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(Errc::not_found,
                      dir.string() + " is not a server directory: create one with `samizdatd init --dir " +
                          dir.string() + "`");
  }
  if (!fs::exists(dir / kConfigFile, ec)) {
    return make_error(Errc::not_found,
                      (dir / kConfigFile).string() + " is missing: is this a samizdatd directory?");
  }
  LoadedServer loaded;
  loaded.config = SZ_TRY(load_server_config(dir / kConfigFile));
  auto noise_secret = SZ_TRY(read_hex_file<32>(dir / "keys" / "noise_static.key"));
  auto operator_seed = SZ_TRY(read_hex_file<32>(dir / "keys" / "operator.key"));
  auto psk = SZ_TRY(read_hex_file<32>(dir / "keys" / "endpoint.psk"));
  if (fs::exists(dir / "map" / "root.pub", ec))
    loaded.map_root = SZ_TRY(read_hex_file<32>(dir / "map" / "root.pub"));
  if (auto published = load_published_map(dir); published.ok()) {
    loaded.map_mirrors = published->map.mirrors;
    loaded.map_dns_names = published->map.dns_names;
  }
  crypto::ensure_initialized();
  auto& options = loaded.options;
  options.noise_static =
      std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::from_secret(noise_secret));
  auto operator_key =
      std::make_shared<crypto::Ed25519KeyPair>(crypto::Ed25519KeyPair::from_seed(operator_seed));
  loaded.operator_key = operator_key->public_key;
  options.certificate_key = operator_key;
  sodium_memzero(noise_secret.data(), noise_secret.size());
  sodium_memzero(operator_seed.data(), operator_seed.size());
  for (const auto& uri : loaded.config.listen) {
    auto endpoint = SZ_TRY(transport::parse_endpoint_uri(uri));
    endpoint.psk = psk;
    endpoint.server_static = options.noise_static->public_key;
    options.listen.push_back(std::move(endpoint));
  }
  const auto& c = loaded.config;
  options.database = dir / kDatabaseFile;
  options.published_map_file = dir / "map" / "published.bin";  // `samizdatd map publish`
  options.tls_certificate = dir / c.tls_certificate;           // an absolute path stays as it is
  options.tls_private_key = dir / c.tls_private_key;
  options.cover_site =
      c.cover_site.empty() ? transport::https::find_default_cover_site() : dir / c.cover_site;
  options.threads = c.threads;
  options.handshake_timeout = std::chrono::milliseconds(c.handshake_timeout_ms);
  options.expiry_sweep_interval = std::chrono::seconds(c.expiry_sweep_seconds);
  options.store_limits.retention_ms = c.retention_days * 24LL * 3600 * 1000;
  options.store_limits.max_envelope_bytes = static_cast<std::size_t>(c.max_envelope_bytes);
  options.store_limits.max_queued_per_mailbox = static_cast<std::size_t>(c.max_queued_per_mailbox);
  options.limits.max_envelope_bytes = static_cast<std::size_t>(c.max_envelope_bytes);
  options.limits.max_recipients_per_send = static_cast<std::size_t>(c.max_recipients_per_send);
  options.limits.requests_per_second = c.requests_per_second;
  options.limits.request_burst = c.request_burst;
  return loaded;
}

Result<std::string> make_bootstrap(const LoadedServer& loaded,
                                   const std::vector<transport::Endpoint>& bound) {
  reach::Bootstrap bootstrap;
  bootstrap.operator_key = loaded.operator_key;
  bootstrap.map_root = loaded.map_root;  // version 2 when the operator has a map root
  if (loaded.map_root) {                 // version 3 with the channels for a fresh map
    bootstrap.mirrors = loaded.map_mirrors;
    if (bootstrap.mirrors.size() > reach::kMaxBootstrapMirrors)
      bootstrap.mirrors.resize(reach::kMaxBootstrapMirrors);
    bootstrap.dns_names = loaded.map_dns_names;
    if (bootstrap.dns_names.size() > reach::kMaxBootstrapDnsNames)
      bootstrap.dns_names.resize(reach::kMaxBootstrapDnsNames);
  }
  if (loaded.config.advertise.empty()) {
    bootstrap.endpoints = bound;
  } else {
    const auto& key_source = bound.front();
    for (const auto& uri : loaded.config.advertise) {
      auto endpoint = SZ_TRY(transport::parse_endpoint_uri(uri));
      endpoint.server_static = key_source.server_static;
      endpoint.psk = key_source.psk;
      bootstrap.endpoints.push_back(std::move(endpoint));
    }
  }
  return reach::encode_bootstrap(bootstrap);
}

Result<std::string> rewrite_bootstrap_file(const fs::path& dir) {
  auto loaded = SZ_TRY(load_server_directory(dir));
  auto bootstrap = SZ_TRY(make_bootstrap(loaded, loaded.options.listen));
  SZ_CHECK(write_file_atomically(dir / kBootstrapFile, as_bytes(bootstrap + "\n")));
  return bootstrap;
}

}  // namespace samizdat::server
