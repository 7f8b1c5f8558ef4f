// `samizdatd map ...`: the operator's network-map commands (files: server/map_directory.hpp).
// Included only by samizdatd_main.cpp; argument parsing and output only.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reach/map/signed_map.hpp"
#include "server/map_directory.hpp"
#include "server/server_directory.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace samizdat::cli {

struct MapCommands {
  CLI::App* map = nullptr;
  CLI::App *init_root, *certify, *add_endpoint, *remove_endpoint, *add_mirror, *add_dns_name, *publish, *show;
  std::string dir, root_dir, out_dir, uri, expires, not_before, front_sni, front_host;
  std::uint32_t weight = 100;
  std::vector<std::string> regions;
  double valid_days = 90;
  bool new_key = false;
};

inline std::uint64_t now_seconds() { return static_cast<std::uint64_t>(unix_millis() / 1000); }

// "1800000000" (unix seconds) or a duration from now: "30d", "12h", "45m".
inline Result<std::uint64_t> parse_time(const std::string& text) {
  if (text.empty()) return std::uint64_t{0};
  std::uint64_t unit = 0;
  switch (text.back()) {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    default:
      break;
  }
  std::string digits = unit ? text.substr(0, text.size() - 1) : text;
  if (digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      "time '" + text + "' must be unix seconds or a duration like 30d, 12h, 45m");
  }
  auto value = std::stoull(digits);
  return unit ? now_seconds() + value * unit : value;
}

inline std::unique_ptr<MapCommands> add_map_commands(CLI::App& app) {
  auto c = std::make_unique<MapCommands>();
  c->map = app.add_subcommand("map", "network map: endpoints, mirrors, DNS names; sign and publish");
  c->map->require_subcommand(1);
  auto dir_option = [&c](CLI::App* sub) {
    sub->add_option("--dir", c->dir, "server directory made by `samizdatd init`")->required();
  };
  c->init_root = c->map->add_subcommand("init-root", "create the offline root key (pinned by clients)");
  c->init_root->add_option("--root-dir", c->root_dir, "directory for the root key; keep it offline")
      ->required();

  c->certify = c->map->add_subcommand("certify-signing-key", "root-sign the server's map signing key");
  dir_option(c->certify);
  c->certify->add_option("--root-dir", c->root_dir, "directory made by `map init-root`")->required();
  c->certify->add_option("--valid-days", c->valid_days, "validity of the signing key (default 90)");
  c->certify->add_flag("--new", c->new_key, "rotate: generate a fresh signing key first");

  c->add_endpoint = c->map->add_subcommand("add-endpoint", "add (or replace) an endpoint in the draft map");
  dir_option(c->add_endpoint);
  c->add_endpoint
      ->add_option("uri", c->uri, "SCHEME://HOST:PORT[/PATH][?...] (keys default to this server's)")
      ->required();
  c->add_endpoint->add_option("--weight", c->weight, "relative preference (default 100)");
  c->add_endpoint->add_option("--region", c->regions, "region hint, e.g. ru (repeatable)");
  c->add_endpoint->add_option("--not-before", c->not_before,
                              "unix seconds or a duration from now (30d, 12h)");
  c->add_endpoint->add_option("--expires", c->expires, "unix seconds or a duration from now (30d, 12h)");

  c->remove_endpoint = c->map->add_subcommand("remove-endpoint", "remove an endpoint from the draft map");
  dir_option(c->remove_endpoint);
  c->remove_endpoint->add_option("uri", c->uri, "SCHEME://HOST:PORT[/PATH]")->required();

  c->add_mirror = c->map->add_subcommand("add-mirror", "add an HTTPS mirror URL that serves map.bin");
  dir_option(c->add_mirror);
  c->add_mirror->add_option("url", c->uri, "https://HOST[:PORT]/PATH")->required();
  c->add_mirror->add_option("--front-sni", c->front_sni, "TLS server name to send instead of the URL host");
  c->add_mirror->add_option("--front-host", c->front_host, "HTTP Host to send instead of the URL host");

  c->add_dns_name = c->map->add_subcommand("add-dns-name", "add a DNS name whose TXT records carry the map");
  dir_option(c->add_dns_name);
  c->add_dns_name->add_option("name", c->uri, "e.g. map.example.org")->required();

  c->publish =
      c->map->add_subcommand("publish", "sign the draft as the next version and write its renderings");
  dir_option(c->publish);
  c->publish->add_option("--out", c->out_dir, "directory for map.bin, map.txt, DNS TXT renderings")
      ->required();
  c->publish->add_option("--valid-days", c->valid_days,
                         "map validity (default 90, capped by the signing key)");

  c->show = c->map->add_subcommand("show", "print the draft and the published map");
  dir_option(c->show);
  return c;
}

inline void print_map(const char* title, const reach::NetworkMap& map) {
  std::printf("%s: version %llu, issued %llu, expires %llu\n", title,
              static_cast<unsigned long long>(map.version), static_cast<unsigned long long>(map.issued_at),
              static_cast<unsigned long long>(map.expires_at));
  for (const auto& e : map.endpoints) {
    std::string regions;
    for (const auto& r : e.regions) regions += (regions.empty() ? "" : ",") + r;
    std::printf("  endpoint %s weight %u%s%s not_before %llu expires %llu\n", e.endpoint.to_uri().c_str(),
                e.weight, regions.empty() ? "" : " regions ", regions.c_str(),
                static_cast<unsigned long long>(e.not_before), static_cast<unsigned long long>(e.expires_at));
  }
  for (const auto& m : map.mirrors) {
    std::printf("  mirror %s%s%s%s%s\n", m.url.c_str(), m.front_sni.empty() ? "" : " sni ",
                m.front_sni.c_str(), m.front_host.empty() ? "" : " host ", m.front_host.c_str());
  }
  for (const auto& n : map.dns_names) std::printf("  dns-name %s\n", n.c_str());
}

inline Status edit_draft(const MapCommands& c) {
  auto draft = SZ_TRY(server::load_map_draft(c.dir));
  if (c.add_endpoint->parsed()) {
    auto endpoint = SZ_TRY(transport::parse_endpoint_uri(c.uri));
    if (endpoint.port == 0)
      return make_error(Errc::invalid_argument, "a map endpoint needs a real port, not 0");
    reach::MapEndpoint entry;
    entry.endpoint = SZ_TRY(server::complete_map_endpoint(c.dir, std::move(endpoint)));
    entry.weight = c.weight;
    entry.regions = c.regions;
    entry.not_before = SZ_TRY(parse_time(c.not_before));
    entry.expires_at = SZ_TRY(parse_time(c.expires));
    std::erase_if(draft.endpoints,
                  [&](const auto& e) { return e.endpoint.to_uri() == entry.endpoint.to_uri(); });
    draft.endpoints.push_back(std::move(entry));
  } else if (c.remove_endpoint->parsed()) {
    auto endpoint = SZ_TRY(transport::parse_endpoint_uri(c.uri));
    auto removed = std::erase_if(draft.endpoints,
                                 [&](const auto& e) { return e.endpoint.to_uri() == endpoint.to_uri(); });
    if (removed == 0)
      return make_error(Errc::not_found, "no endpoint " + endpoint.to_uri() + " in the draft map");
  } else if (c.add_mirror->parsed()) {
    if (c.uri.rfind("https://", 0) != 0)
      return make_error(Errc::invalid_argument, "mirror URL must start with https://");
    std::erase_if(draft.mirrors, [&](const auto& m) { return m.url == c.uri; });
    draft.mirrors.push_back(reach::MapMirror{c.uri, c.front_sni, c.front_host});
  } else if (c.add_dns_name->parsed()) {
    std::erase(draft.dns_names, c.uri);
    draft.dns_names.push_back(c.uri);
  }
  return server::save_map_draft(c.dir, draft);
}

// After the map root or the published mirrors/DNS names change: the new bootstrap string
// (written to DIR/bootstrap.txt) is what the operator hands out from now on.
inline void print_new_bootstrap(const std::string& dir) {
  auto bootstrap = server::rewrite_bootstrap_file(dir);
  if (!bootstrap.ok()) {
    std::fprintf(stderr, "samizdatd map: could not update %s/bootstrap.txt: %s\n", dir.c_str(),
                 bootstrap.error().message.c_str());
    return;
  }
  std::printf("bootstrap string (also in %s/bootstrap.txt):\n%s\n", dir.c_str(), bootstrap->c_str());
}

// nullopt when no `map` subcommand was given; otherwise the exit code.
inline std::optional<int> run_map_commands(const MapCommands& c) {
  if (!c.map->parsed()) return std::nullopt;
  auto fail = [](const Error& error) {
    std::fprintf(stderr, "samizdatd map: %s\n", error.message.c_str());
    return 1;
  };
  if (c.init_root->parsed()) {
    auto root = server::init_map_root(c.root_dir);
    if (!root.ok()) return fail(root.error());
    std::printf("map root key %s (in %s/root.pub); keep %s offline\n", hex_encode(*root).c_str(),
                c.root_dir.c_str(), c.root_dir.c_str());
    return 0;
  }
  if (c.certify->parsed()) {
    auto now = now_seconds();
    auto until = now + static_cast<std::uint64_t>(c.valid_days * 86400);
    auto certificate = server::certify_map_signing_key(c.root_dir, c.dir, now, until, c.new_key);
    if (!certificate.ok()) return fail(certificate.error());
    std::printf("map signing key %s certified until %llu\n", hex_encode(certificate->signing_key).c_str(),
                static_cast<unsigned long long>(certificate->valid_until));
    print_new_bootstrap(c.dir);
    return 0;
  }
  if (c.publish->parsed()) {
    auto published = server::publish_map(c.dir, c.out_dir, now_seconds(),
                                         static_cast<std::uint64_t>(c.valid_days * 86400));
    if (!published.ok()) return fail(published.error());
    print_map("published", published->map.map);
    for (const auto& file : published->files) std::printf("  wrote %s\n", file.c_str());
    print_new_bootstrap(c.dir);
    return 0;
  }
  if (c.show->parsed()) {
    auto draft = server::load_map_draft(c.dir);
    if (!draft.ok()) return fail(draft.error());
    print_map("draft", *draft);
    auto published = server::load_published_map(c.dir);
    if (published.ok()) print_map("published", published->map);
    return 0;
  }
  auto edited = edit_draft(c);
  if (!edited.ok()) return fail(edited.error());
  return 0;
}

}  // namespace samizdat::cli
