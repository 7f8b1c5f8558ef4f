// Device registration: the server accepts a device key only with the account owner's
// signature over exactly that device id and key.
#include <gtest/gtest.h>

#include "crypto/e2e/device_registration.hpp"

namespace samizdat::crypto::e2e {
namespace {

struct Registration {
  Ed25519KeyPair account = Ed25519KeyPair::generate();
  X25519KeyPair device = X25519KeyPair::generate();
  std::uint32_t device_id = 2;
  Ed25519Signature signature = sign_device_registration(account, device_id, device.public_key);
};

TEST(DeviceRegistration, TheAccountOwnersSignatureVerifies) {
  Registration r;
  EXPECT_TRUE(
      verify_device_registration(r.account.public_key, r.device_id, r.device.public_key, r.signature).ok());
}

TEST(DeviceRegistration, ASignatureDoesNotCarryOverToAnotherDeviceIdOrKey) {
  Registration r;
  auto other_key = X25519KeyPair::generate();
  auto for_other_id = verify_device_registration(r.account.public_key, 3, r.device.public_key, r.signature);
  ASSERT_FALSE(for_other_id.ok());
  EXPECT_EQ(for_other_id.error().code, Errc::auth_failed);
  auto for_other_key =
      verify_device_registration(r.account.public_key, r.device_id, other_key.public_key, r.signature);
  ASSERT_FALSE(for_other_key.ok());
  EXPECT_EQ(for_other_key.error().code, Errc::auth_failed);
}

TEST(DeviceRegistration, SomeoneElsesSignatureCannotRegisterADeviceOnAnAccount) {
  Registration r;
  auto mallory = Ed25519KeyPair::generate();
  auto forged = sign_device_registration(mallory, r.device_id, r.device.public_key);
  auto verified = verify_device_registration(r.account.public_key, r.device_id, r.device.public_key, forged);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, Errc::auth_failed);
}

TEST(DeviceRegistration, ATamperedSignatureIsRefused) {
  Registration r;
  r.signature[10] ^= 0x01;
  auto verified =
      verify_device_registration(r.account.public_key, r.device_id, r.device.public_key, r.signature);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, Errc::auth_failed);
}

}  // namespace
}  // namespace samizdat::crypto::e2e
