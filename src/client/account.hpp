// Who this client is, as loaded from the account database at open: the identity key, the
// device's key and id, and the network it belongs to (its bootstrap string).
#pragma once

#include <memory>

#include "client/network_config.hpp"
#include "crypto/e2e/address.hpp"
#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/keys.hpp"

namespace samizdat::client {

struct Account {
  crypto::Ed25519KeyPair identity;
  std::shared_ptr<const crypto::X25519KeyPair> device_key;
  crypto::e2e::DeviceId device_id = 1;
  crypto::e2e::Address address;
  NetworkConfig network;
};

}  // namespace samizdat::client
